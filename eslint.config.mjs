// Lint for every project: type-checked typescript-eslint, eslint-plugin-security, Nx module
// boundaries that enforce the architecture (see docs/architecture/overview.md), and Rampart's own
// rule that every controller route makes an access decision (tools/lint/route-access.mjs).
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import security from 'eslint-plugin-security';
import tseslint from 'typescript-eslint';
import { rampartPlugin } from './tools/lint/route-access.mjs';

const FRAMEWORK_PACKAGES = [
  '@nestjs/*',
  'typeorm',
  'kafkajs',
  'oidc-provider',
  'pg',
  'fastify',
  '@fastify/*',
  'pino',
];

/** Which kinds of project may import which. Nothing else is allowed, and `*` -> `*` never is. */
const dependencyRules = (testFiles) => [
  {
    sourceTag: 'type:contracts',
    onlyDependOnLibsWithTags: ['type:contracts'],
    bannedExternalImports: FRAMEWORK_PACKAGES,
  },
  {
    sourceTag: 'type:platform',
    onlyDependOnLibsWithTags: ['type:contracts', ...(testFiles ? ['type:testing'] : [])],
  },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:platform'] },
  // Client libraries run on users' devices (browsers included): no platform, no framework.
  {
    sourceTag: 'type:sdk',
    onlyDependOnLibsWithTags: ['type:contracts'],
    bannedExternalImports: FRAMEWORK_PACKAGES,
  },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: [
      'type:contracts',
      'type:platform',
      // A service's tests drive it the way its clients do.
      ...(testFiles ? ['type:testing', 'type:sdk'] : []),
    ],
  },
  {
    sourceTag: 'type:launcher',
    onlyDependOnLibsWithTags: [
      'type:app',
      'type:contracts',
      'type:platform',
      ...(testFiles ? ['type:testing'] : []),
    ],
  },
  // Benchmarks drive real services.
  {
    sourceTag: 'type:tooling',
    onlyDependOnLibsWithTags: [
      'type:app',
      'type:contracts',
      'type:platform',
      'type:testing',
      'type:sdk',
    ],
  },
];

const boundaries = (testFiles) => ({
  '@nx/enforce-module-boundaries': [
    'error',
    {
      enforceBuildableLibDependency: false,
      allowCircularSelfDependency: false,
      checkDynamicDependenciesExceptions: [
        '@rampart/platform',
        '@rampart/testing',
        '@rampart/contracts',
      ],
      allow: [],
      depConstraints: dependencyRules(testFiles),
    },
  ],
});

// A service's src/testing/ holds its test harness: test code, never built into dist.
const TEST_FILES = [
  '**/*.spec.ts',
  '**/*.integration-spec.ts',
  '**/*.e2e-spec.ts',
  'services/*/src/testing/**/*.ts',
  'tools/*/src/testing/**/*.ts',
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/coverage/**',
      '.rampart/**',
      '.nx/**',
      '**/*.mjs',
      '**/*.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  security.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      ...boundaries(false),
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      // Nest decorators need classes referenced as values for metadata; allow extraneous classes.
      '@typescript-eslint/no-extraneous-class': 'off',
      // Object property access by validated keys is everywhere in config and maps; the rule cannot tell.
      'security/detect-object-injection': 'off',
      'no-console': 'error',
    },
  },
  {
    files: TEST_FILES,
    rules: {
      ...boundaries(true),
      // Tests assert on parsed JSON of real responses.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'security/detect-non-literal-fs-filename': 'off',
    },
  },
  {
    // Paths here come from configuration and the launcher's own data folder, never from requests;
    // in services (which handle requests) the rule stays on.
    files: [
      'libs/testing/**/*.ts',
      'tools/**/*.ts',
      'libs/platform/src/workload/**/*.ts',
      'libs/platform/src/database/**/*.ts',
      'services/key-management/src/root-of-trust/**/*.ts',
      'services/identity/src/passwords/common-passwords.ts',
      'services/identity/src/mail/local-mailbox.ts',
      // Archive bundles: under AUDIT_ARCHIVE_DIR, named by sequence range (ADR 0025).
      'services/audit/src/retention/archiver.ts',
      'services/audit/src/export/archive-bundle.ts',
    ],
    rules: { 'security/detect-non-literal-fs-filename': 'off' },
  },
  {
    // Every controller route states who may call it (tools/lint/route-access.mjs).
    files: ['services/*/src/**/*.ts', 'libs/platform/src/**/*.ts'],
    ignores: TEST_FILES,
    plugins: { rampart: rampartPlugin },
    rules: { 'rampart/route-access': 'error' },
  },
  {
    // Runs in browsers as well as Node: WebCrypto and web APIs only.
    files: ['libs/e2ee/src/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['node:*'], message: 'Browser code: use WebCrypto and web APIs.' }] },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: 'Browser code: use Uint8Array.' },
        { name: 'process', message: 'Browser code has no process.' },
      ],
    },
  },
  prettier,
);
