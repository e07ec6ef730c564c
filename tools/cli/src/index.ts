export { runCli, EXIT, type Io } from './cli.js';
