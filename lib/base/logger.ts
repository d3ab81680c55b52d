import fs from 'node:fs';
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
    (opts.destination ?? stderrDestination()) as pino.DestinationStream,
  );
}

/**
 * Where a program's lines go. Into a file or a character device (a terminal, /dev/null): all
 * lines logged in one event-loop turn in one write, made at the end of the turn (a busy API
 * server logs a line per request; one write each cost ~15 µs a request). Into a pipe or a socket
 * (a parent process, journald), whose reader may be slow: pino's asynchronous writer, which
 * never blocks the program.
 */
export function stderrDestination(fd = 2): { write(line: string): boolean } {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.fstatSync(fd);
  } catch {
    stat = undefined;
  }
  if (stat && (stat.isFile() || stat.isCharacterDevice())) return new TurnBatchedDestination(fd);
  return pino.destination({ fd, sync: false });
}

const batched = new Set<TurnBatchedDestination>();

/** Lines collected during a turn and written together when it ends; what is left is written at exit. */
export class TurnBatchedDestination {
  private pending = '';
  private scheduled = false;

  constructor(private readonly fd: number) {
    if (batched.size === 0) process.on('exit', () => batched.forEach((d) => d.flush()));
    batched.add(this);
  }

  write(line: string): boolean {
    this.pending += line;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  flush(): void {
    this.scheduled = false;
    let data = Buffer.from(this.pending);
    this.pending = '';
    try {
      while (data.length > 0) data = data.subarray(fs.writeSync(this.fd, data));
    } catch {
      // The file is gone or full: there is nowhere else to say so.
    }
  }
}

/** A logger that drops everything, for tests and libraries used quietly. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
