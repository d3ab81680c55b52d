#!/usr/bin/env node
/** tkubectl: kubectl's command line for tkube. Wiring only; the commands live in lib/kubectl. */
import { runTkubectl } from '../../lib/kubectl/index.js';

const ctl = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  // First Ctrl-C ends watches and log streams cleanly; a second one leaves at once.
  if (interrupted) process.exit(130);
  interrupted = true;
  ctl.abort();
});
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  // `tkubectl get pods | head`: the reader went away.
  if (err.code === 'EPIPE') process.exit(0);
});

const code = await runTkubectl(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  stdoutIsTTY: Boolean(process.stdout.isTTY),
  signal: ctl.signal,
});
process.exitCode = interrupted && code === 0 ? 130 : code;
// Watches and streams may hold the event loop open after the command returned.
process.stdout.write('', () => process.exit(process.exitCode));
