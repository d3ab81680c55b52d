export { runTkubectl, rootCommand } from './root.js';
export { bufferedIO, type IOStreams, type BufferedIO } from './cli/io.js';
export * as printers from './printers/index.js';
