import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  /** Component name, written as the `component` field of every line. */
  component: string;
  level?: LevelWithSilent;
  /** Where lines go; defaults to stderr so that stdout stays free for program output. */
  destination?: NodeJS.WritableStream;
}

/**
 * Creates the root logger of one program. Components take child loggers from it
 * (`log.child({ controller: 'replicaset' })`); nothing in lib/ creates its own root.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? (process.env.TKUBE_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  return pino(
    { level, base: { component: opts.component }, timestamp: pino.stdTimeFunctions.isoTime },
    (opts.destination ?? pino.destination({ fd: 2, sync: false })) as pino.DestinationStream,
  );
}

/** A logger that drops everything, for tests and libraries used quietly. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
