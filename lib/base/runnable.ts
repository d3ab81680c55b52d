import type { Logger } from 'pino';

/**
 * A long-running part of a program. `start` runs until `signal` aborts, then cleans up
 * everything it owns (timers, watchers, sockets) and resolves. A rejection means it failed.
 */
export interface Runnable {
  start(signal: AbortSignal): Promise<void>;
}

/**
 * Runs a program's Runnable until SIGINT or SIGTERM, then waits for a clean stop.
 * A second signal exits at once. Exit code 0 after a clean stop, 1 on failure.
 */
export async function runUntilSignalled(runnable: Runnable, log: Logger): Promise<never> {
  const ctl = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(130);
    log.info({ signal: sig }, 'shutting down');
    ctl.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await runnable.start(ctl.signal);
    log.info('stopped');
    process.exit(0);
  } catch (err) {
    log.fatal({ err }, 'failed');
    // Give pino's async destination a moment to flush.
    await new Promise((r) => setTimeout(r, 50));
    process.exit(1);
  }
}

/** Resolves when the signal aborts. */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
