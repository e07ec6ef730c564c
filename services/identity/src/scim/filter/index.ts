export * from './ast.js';
export * from './filter.errors.js';
export * from './filter.parser.js';
export * from './filter.translator.js';
