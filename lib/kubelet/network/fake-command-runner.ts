import { CommandError, type CommandResult, type CommandRunner, type RunOptions } from './command-runner.js';

export interface RecordedCommand {
  where: string;
  argv: string[];
  input?: string;
}

/** A scripted answer: the command's output and exit code (0 when unset). */
export type FakeAnswer = Partial<CommandResult>;

type Responder = (cmd: RecordedCommand) => FakeAnswer | undefined;

/**
 * A CommandRunner for unit tests: records every command (with where it would run) and answers
 * from scripted responders; unscripted commands succeed with empty output. Non-zero answers
 * throw the same CommandError the real runner throws, honouring `okExitCodes`.
 */
export class FakeCommandRunner implements CommandRunner {
  readonly where: string;
  private readonly shared: { log: RecordedCommand[]; responders: Responder[] };

  constructor(where = 'host', shared?: { log: RecordedCommand[]; responders: Responder[] }) {
    this.where = where;
    this.shared = shared ?? { log: [], responders: [] };
  }

  /** Every command run through this runner or runners derived from it, in order. */
  get commands(): RecordedCommand[] {
    return this.shared.log;
  }

  /** The commands as `where: argv...` lines, convenient for assertions. */
  lines(): string[] {
    return this.shared.log.map((c) => `${c.where}: ${c.argv.join(' ')}`);
  }

  /**
   * Like lines(), with each line of an `ip -batch -` (or `ip -force -batch -`) as a command of
   * its own (`where: ip <line>`): what ran, whether batched or not.
   */
  steps(): string[] {
    return this.shared.log.flatMap((c) =>
      /^ip (-force )?-batch -$/.test(c.argv.join(' ')) ? (c.input ?? '').trim().split('\n').map((l) => `${c.where}: ip ${l}`) : [`${c.where}: ${c.argv.join(' ')}`],
    );
  }

  clear(): void {
    this.shared.log.length = 0;
  }

  /**
   * Answers commands whose `argv.join(' ')` matches `pattern` (a substring or a RegExp);
   * later responders win over earlier ones. A function answer can look at the command.
   */
  on(pattern: string | RegExp, answer: FakeAnswer | ((cmd: RecordedCommand) => FakeAnswer | undefined)): this {
    const matches = (line: string) => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));
    this.shared.responders.unshift((cmd) => (matches(cmd.argv.join(' ')) ? (typeof answer === 'function' ? answer(cmd) : answer) : undefined));
    return this;
  }

  inNetnsOfPid(pid: number): CommandRunner {
    return new FakeCommandRunner(`netns of pid ${pid}`, this.shared);
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    const cmd: RecordedCommand = { where: this.where, argv: [...argv], ...(opts.input !== undefined ? { input: opts.input } : {}) };
    this.shared.log.push(cmd);
    let answer: FakeAnswer = {};
    for (const r of this.shared.responders) {
      const a = r(cmd);
      if (a) {
        answer = a;
        break;
      }
    }
    const result = { stdout: answer.stdout ?? '', stderr: answer.stderr ?? '', exitCode: answer.exitCode ?? 0 };
    if (result.exitCode !== 0 && !(opts.okExitCodes ?? []).includes(result.exitCode)) throw new CommandError(argv, this.where, result.exitCode, result.stderr);
    return result;
  }
}
