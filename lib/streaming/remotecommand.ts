/**
 * The server side of Kubernetes remote commands (exec and attach) over either transport:
 *
 * - WebSocket: channels 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize in one socket
 *   (v5.channel.k8s.io, v4.channel.k8s.io, channel.k8s.io and their base64 forms).
 * - SPDY/3.1: the client opens one stream per channel with a `streamtype` header (error,
 *   stdin, stdout, stderr, resize), after negotiating v4/v3/v2/v1 in X-Stream-Protocol-Version.
 *
 * Either way the session ends the same: the output streams end, the outcome goes on the error
 * stream (v4 and later: a JSON Status, with an ExitCode cause for a non-zero exit; before v4:
 * the failure's text only), and the connection closes.
 */
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocketServer } from 'ws';
import { SpdySession, type SpdyStream } from './spdy/session.js';
import { acceptSpdyUpgrade, acceptWebSocket, isWebSocketRequest, type UpgradeRequest } from './upgrade.js';
import { ChannelProtocol, RemoteCommandChannel, WebSocketChannels } from './ws-channels.js';

/** SPDY versions of the remote command protocol, newest first. */
export const RemoteCommandProtocol = {
  v1: 'channel.k8s.io',
  v2: 'v2.channel.k8s.io',
  v3: 'v3.channel.k8s.io',
  v4: 'v4.channel.k8s.io',
  v5: 'v5.channel.k8s.io',
} as const;

export const spdyRemoteCommandProtocols = [RemoteCommandProtocol.v4, RemoteCommandProtocol.v3, RemoteCommandProtocol.v2, RemoteCommandProtocol.v1];
export const webSocketRemoteCommandProtocols = [ChannelProtocol.v5, ChannelProtocol.v4, ChannelProtocol.v4Base64, ChannelProtocol.v1, ChannelProtocol.v1Base64, ''];

/** Status reason and cause type of a command that exited non-zero. */
export const nonZeroExitCodeReason = 'NonZeroExitCode';
export const exitCodeCauseType = 'ExitCode';

/** Stream types of the SPDY transport (the `streamtype` header). */
export const StreamType = { error: 'error', stdin: 'stdin', stdout: 'stdout', stderr: 'stderr', resize: 'resize', data: 'data' } as const;

export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export class OptionsError extends Error {
  override readonly name = 'OptionsError';
}

/**
 * Reads stdin/stdout/stderr/tty from a request's query: the kubelet's `input`, `output`,
 * `error`, `tty` set to "1", and the API server's `stdin`, `stdout`, `stderr`, `tty` set to
 * "true". With a TTY stderr is merged into stdout, so it is dropped (as upstream).
 */
export function parseRemoteCommandOptions(query: URLSearchParams): RemoteCommandOptions {
  const flag = (...names: string[]) => names.some((n) => query.get(n) === '1' || query.get(n) === 'true');
  const tty = flag('tty');
  const opts = { stdin: flag('input', 'stdin'), stdout: flag('output', 'stdout'), stderr: flag('error', 'stderr') && !tty, tty };
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw new OptionsError('you must specify at least 1 of stdin, stdout, stderr');
  return opts;
}

export interface TerminalSize {
  width: number;
  height: number;
}

/**
 * Reads terminal sizes from the resize stream: JSON objects `{"Width":80,"Height":24}`, one
 * after another (Go's json.Encoder puts a newline after each).
 */
export class TerminalSizeDecoder {
  private text = '';

  push(chunk: Buffer | string): TerminalSize[] {
    this.text += chunk.toString();
    const out: TerminalSize[] = [];
    for (;;) {
      const start = this.text.indexOf('{');
      if (start < 0) {
        this.text = '';
        break;
      }
      const end = this.text.indexOf('}', start);
      if (end < 0) {
        this.text = this.text.slice(start);
        break;
      }
      const raw = this.text.slice(start, end + 1);
      this.text = this.text.slice(end + 1);
      try {
        const v = JSON.parse(raw) as { Width?: unknown; Height?: unknown };
        const width = Number(v.Width ?? 0);
        const height = Number(v.Height ?? 0);
        if (Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0 && width <= 0xffff && height <= 0xffff) out.push({ width, height });
      } catch {
        /* not a size: skip it */
      }
    }
    return out;
  }
}

/**
 * Terminal sizes as they arrive. Clients send the first size as soon as the streams exist,
 * often before the command runs: the latest size is kept and handed to late listeners.
 */
class SizeFeed {
  private last?: TerminalSize;
  private readonly listeners: Array<(s: TerminalSize) => void> = [];

  push(size: TerminalSize): void {
    this.last = size;
    for (const l of this.listeners) l(size);
  }

  listen(l: (s: TerminalSize) => void): void {
    this.listeners.push(l);
    if (this.last) l(this.last);
  }

  /** The first size, if one arrives within `ms`. */
  first(ms: number): Promise<TerminalSize | undefined> {
    if (this.last) return Promise.resolve(this.last);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(undefined), ms);
      this.listeners.push((s) => {
        clearTimeout(t);
        resolve(s);
      });
    });
  }
}

/** How a remote command ended. */
export type RemoteCommandOutcome = { kind: 'success' } | { kind: 'exit'; code: number; command?: string[] } | { kind: 'error'; message: string };

/** The Status that v4 and later write on the error stream. */
export function outcomeStatus(o: RemoteCommandOutcome): Record<string, unknown> {
  switch (o.kind) {
    case 'success':
      return { metadata: {}, status: 'Success' };
    case 'exit':
      return {
        metadata: {},
        status: 'Failure',
        message: `command terminated with non-zero exit code: ${o.command ? `error executing command [${o.command.join(' ')}], ` : ''}exit code ${o.code}`,
        reason: nonZeroExitCodeReason,
        details: { causes: [{ reason: exitCodeCauseType, message: String(o.code) }] },
      };
    case 'error':
      return { metadata: {}, status: 'Failure', message: `Internal error occurred: ${o.message}`, reason: 'InternalError', details: { causes: [{ message: o.message }] }, code: 500 };
  }
}

/** What pre-v4 protocols write on the error stream: nothing on success, else the text. */
function outcomeText(o: RemoteCommandOutcome): string {
  const s = outcomeStatus(o);
  return o.kind === 'success' ? '' : String(s.message);
}

/** The streams of an accepted exec or attach request. */
export interface RemoteCommandSession {
  transport: 'websocket' | 'spdy';
  protocol: string;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** Called with each terminal size the client sends (TTY sessions); the latest at once if one came already. */
  onResize(listener: (size: TerminalSize) => void): void;
  /** The client's first terminal size, if it sends one within `ms` (undefined without a resize stream). */
  initialSize(ms: number): Promise<TerminalSize | undefined>;
  /** Resolves when the client's connection is gone. */
  readonly gone: Promise<void>;
  /** Ends the output, reports the outcome on the error stream and closes the connection. */
  finish(outcome: RemoteCommandOutcome): Promise<void>;
}

export interface AcceptRemoteCommandConfig {
  wss: WebSocketServer;
  /** How long a SPDY client has to open its streams (upstream: 30s). */
  streamCreationTimeoutMs?: number;
  log?: Logger;
}

/**
 * Upgrades the request and sets up the streams `opts` asks for. Resolves undefined when the
 * handshake failed (the client has been answered and the socket closed).
 */
export async function acceptRemoteCommand(up: UpgradeRequest, opts: RemoteCommandOptions, cfg: AcceptRemoteCommandConfig): Promise<RemoteCommandSession | undefined> {
  return isWebSocketRequest(up.req) ? acceptWebSocketCommand(up, opts, cfg) : acceptSpdyCommand(up, opts, cfg);
}

function writeAll(w: Writable | undefined, data: Buffer | string): Promise<void> {
  if (!w || w.destroyed || w.writableEnded || data.length === 0) return Promise.resolve();
  return new Promise((resolve) => w.write(data, () => resolve()));
}

function endWritable(w: Writable | undefined): Promise<void> {
  if (!w || w.destroyed || w.writableEnded) return Promise.resolve();
  return new Promise((resolve) => w.end(() => resolve()));
}

async function acceptWebSocketCommand(up: UpgradeRequest, opts: RemoteCommandOptions, cfg: AcceptRemoteCommandConfig): Promise<RemoteCommandSession | undefined> {
  const accepted = await acceptWebSocket(cfg.wss, up, webSocketRemoteCommandProtocols);
  if (!accepted) return undefined;
  const { ws, protocol } = accepted;
  const ch = new WebSocketChannels(ws, protocol, { readable: [RemoteCommandChannel.stdin, RemoteCommandChannel.resize] });
  const isV4 = protocol === ChannelProtocol.v4 || protocol === ChannelProtocol.v4Base64 || protocol === ChannelProtocol.v5;
  const stdout = opts.stdout ? ch.writer(RemoteCommandChannel.stdout) : undefined;
  const stderr = opts.stderr ? ch.writer(RemoteCommandChannel.stderr) : undefined;
  // Upstream tells the client the streams are ready with an empty message on the lowest
  // writable channel.
  await ch.send(opts.stdout ? RemoteCommandChannel.stdout : opts.stderr ? RemoteCommandChannel.stderr : RemoteCommandChannel.error, Buffer.alloc(0));
  const resize = ch.reader(RemoteCommandChannel.resize);
  const decoder = new TerminalSizeDecoder();
  const sizes = new SizeFeed();
  resize.on('data', (d: Buffer) => {
    for (const s of decoder.push(d)) sizes.push(s);
  });
  return {
    transport: 'websocket',
    protocol,
    stdin: opts.stdin ? ch.reader(RemoteCommandChannel.stdin) : undefined,
    stdout,
    stderr,
    onResize: (l) => sizes.listen(l),
    initialSize: (ms) => (opts.tty ? sizes.first(ms) : Promise.resolve(undefined)),
    gone: ch.closed,
    async finish(outcome) {
      await Promise.all([endWritable(stdout), endWritable(stderr)]);
      const report = isV4 ? JSON.stringify(outcomeStatus(outcome)) : outcomeText(outcome);
      if (report) await ch.send(RemoteCommandChannel.error, Buffer.from(report));
      ch.close();
    },
  };
}

async function acceptSpdyCommand(up: UpgradeRequest, opts: RemoteCommandOptions, cfg: AcceptRemoteCommandConfig): Promise<RemoteCommandSession | undefined> {
  const protocol = acceptSpdyUpgrade(up, spdyRemoteCommandProtocols);
  if (protocol === undefined) return undefined;
  const resizable = protocol === RemoteCommandProtocol.v4 || protocol === RemoteCommandProtocol.v3;
  const expected = 1 + Number(opts.stdin) + Number(opts.stdout) + Number(opts.stderr) + Number(opts.tty && resizable);
  const streams = new Map<string, SpdyStream>();
  let ready!: () => void;
  const allThere = new Promise<void>((r) => (ready = r));
  const session = new SpdySession(up.socket, {
    role: 'server',
    log: cfg.log,
    onStream: (s) => {
      const type = s.header('streamtype') ?? '';
      void s.accept();
      if (!Object.values(StreamType).includes(type as never) || streams.has(type)) {
        cfg.log?.debug({ streamType: type }, 'unexpected stream type');
        return;
      }
      streams.set(type, s);
      if (streams.size === expected) ready();
    },
  });
  const timeoutMs = cfg.streamCreationTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    allThere.then(() => 'ready' as const),
    session.closed.then(() => 'gone' as const),
    new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (outcome !== 'ready') {
    cfg.log?.debug({ outcome, expected, received: [...streams.keys()] }, 'client did not create its streams');
    session.destroy();
    return undefined;
  }
  const errorStream = streams.get(StreamType.error);
  const stdin = streams.get(StreamType.stdin);
  const stdout = streams.get(StreamType.stdout);
  const stderr = streams.get(StreamType.stderr);
  const resize = streams.get(StreamType.resize);
  // v1 clients never write stdin past the handshake; upstream closes it at once.
  if (protocol === RemoteCommandProtocol.v1) stdin?.end();
  const decoder = new TerminalSizeDecoder();
  const sizes = new SizeFeed();
  resize?.on('data', (d: Buffer) => {
    for (const s of decoder.push(d)) sizes.push(s);
  });
  return {
    transport: 'spdy',
    protocol,
    stdin: opts.stdin ? stdin : undefined,
    stdout: opts.stdout ? stdout : undefined,
    stderr: opts.stderr ? stderr : undefined,
    onResize: (l) => sizes.listen(l),
    initialSize: (ms) => (resize ? sizes.first(ms) : Promise.resolve(undefined)),
    gone: session.closed,
    async finish(result) {
      await Promise.all([endWritable(stdout), endWritable(stderr)]);
      const report = protocol === RemoteCommandProtocol.v4 ? JSON.stringify(outcomeStatus(result)) : outcomeText(result);
      await writeAll(errorStream, report);
      await endWritable(errorStream);
      session.close();
    },
  };
}
