// One Jest run for the whole workspace: real PostgreSQL and Kafka are started once (globalSetup)
// and shared by every project's integration tests.
import { readdirSync, existsSync } from 'node:fs';

const swc = [
  '@swc/jest',
  {
    // The build's .swcrc excludes test files; tests get this configuration instead.
    swcrc: false,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      target: 'es2023',
      keepClassNames: true,
    },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const workspacePackages = {
  '^@rampart/(contracts|platform|testing|e2ee)$': '<rootDir>/../../libs/$1/src/index.ts',
  '^@rampart/testing/jest$': '<rootDir>/../../libs/testing/src/jest.ts',
  '^@rampart/platform/testing-support$':
    '<rootDir>/../../libs/platform/src/testing-support/index.ts',
  '^@rampart/(gateway|identity|authorization|key-management|consent|audit)$':
    '<rootDir>/../../services/$1/src/index.ts',
};

function project(dir) {
  return {
    displayName: dir.split('/').pop(),
    rootDir: dir,
    testEnvironment: 'node',
    extensionsToTreatAsEsm: ['.ts'],
    transform: { '^.+\\.ts$': swc },
    moduleNameMapper: { ...workspacePackages, '^(\\.{1,2}/.*)\\.js$': '$1' },
    testMatch: [
      '<rootDir>/src/**/*.spec.ts',
      '<rootDir>/src/**/*.integration-spec.ts',
      '<rootDir>/src/**/*.e2e-spec.ts',
    ],
  };
}

const roots = ['libs', 'services'].flatMap((top) =>
  existsSync(top) ? readdirSync(top).map((name) => `${top}/${name}`) : [],
);

export default {
  projects: [...roots, 'tools/all-in-one', 'tools/docs', 'tools/cli']
    .filter((dir) => existsSync(`${dir}/src`))
    .map(project),
  // Jest loads global setup outside any project's transform: it runs the built library
  // (`nx run testing:build`, a dependency of every test target).
  globalSetup: '<rootDir>/libs/testing/dist/global-setup.js',
  globalTeardown: '<rootDir>/libs/testing/dist/global-teardown.js',
  reporters: ['default', '<rootDir>/libs/testing/src/summary-reporter.mjs'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
