/**
 * The server side of Kubernetes port forwarding, over three transports:
 *
 * - SPDY/3.1 (X-Stream-Protocol-Version: portforward.k8s.io): for each forwarded connection
 *   the client opens two streams with headers `streamtype: error|data`, `port: N` and
 *   `requestid: K`. The server pairs them by request id, connects the data stream to the port
 *   and, on failure, writes the reason on the error stream.
 * - SPDY tunnelled in a WebSocket (subprotocol SPDY/3.1+portforward.k8s.io, kubectl ≥ 1.31):
 *   the binary messages, in order, are the bytes of the SPDY connection above.
 * - WebSocket channels (v4.channel.k8s.io, with ?ports=80,443): one data channel 2i and one
 *   error channel 2i+1 per port; each starts with the port in 16 bits, little endian. One
 *   connection per port for the life of the socket.
 */
import { Duplex, type Readable, type Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createWebSocketStream, type WebSocketServer } from 'ws';
import { SpdySession, type SpdyStream } from './spdy/session.js';
import { StreamType } from './remotecommand.js';
import { acceptSpdyUpgrade, acceptWebSocket, isWebSocketRequest, writeRawResponse, type UpgradeRequest } from './upgrade.js';
import { ChannelProtocol, WebSocketChannels } from './ws-channels.js';

export const portForwardProtocol = 'portforward.k8s.io';
/** Prefix of a SPDY protocol tunnelled over WebSocket. */
export const spdyTunnelPrefix = 'SPDY/3.1+';
export const spdyTunnelProtocol = spdyTunnelPrefix + portForwardProtocol;
export const webSocketPortForwardProtocols = [spdyTunnelProtocol, ChannelProtocol.v4, ChannelProtocol.v4Base64, ''];

/** Connects `stream` to `port` in the pod; resolves when the connection is over. */
export type ForwardPort = (port: number, stream: Duplex) => Promise<void>;

export interface PortForwardConfig {
  wss: WebSocketServer;
  forward: ForwardPort;
  /** How the pod is named in error messages: "pod-name, uid abc" as upstream. */
  podDescription: string;
  /** How long the second stream of a pair may take to arrive (upstream: 30s). */
  streamCreationTimeoutMs?: number;
  log?: Logger;
}

/** Parses one port value: an integer 1..65535. */
export function parsePort(value: string): number | undefined {
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * The ports of a WebSocket request: `port` (what the API server sends the kubelet) or `ports`
 * (what clients send the API server), repeatable and comma-separated.
 */
export function parsePortsQuery(query: URLSearchParams): number[] {
  const values = [...query.getAll('port'), ...query.getAll('ports')];
  if (values.length === 0) throw new Error('query parameter "port" is required');
  const out: number[] = [];
  for (const v of values) {
    if (v === '') throw new Error('query parameter "port" cannot be empty');
    for (const p of v.split(',')) {
      const port = parsePort(p);
      if (port === undefined) throw new Error(`unable to parse "${p}" as a port`);
      out.push(port);
    }
  }
  return out;
}

export interface StreamPair {
  requestId: string;
  port: number;
  data: SpdyStream;
  error: SpdyStream;
}

/**
 * Pairs the data and error streams of each forwarded connection by their request id. Streams
 * without one (clients before 1.9) are paired by stream id: an error stream's id names the
 * pair, its data stream follows two ids later.
 */
export class StreamPairer {
  private readonly pending = new Map<string, { port: number; data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout }>();

  constructor(
    private readonly opts: {
      timeoutMs: number;
      onPair: (pair: StreamPair) => void;
      /** The pair did not complete in time (or a stream was refused): tell the client. */
      onFailure: (stream: SpdyStream | undefined, message: string) => void;
    },
  ) {}

  /** Validates a new stream and files it; returns why it was refused, or undefined. */
  add(stream: SpdyStream): string | undefined {
    const portText = stream.header('port');
    if (!portText) return '"port" header is required';
    const port = parsePort(portText);
    if (port === undefined) return `unable to parse "${portText}" as a port`;
    const type = stream.header('streamtype');
    if (!type) return '"streamType" header is required';
    if (type !== StreamType.error && type !== StreamType.data) return `invalid stream type "${type}"`;
    const requestId = stream.header('requestid') || String(type === StreamType.error ? stream.id : stream.id - 2);
    let p = this.pending.get(requestId);
    if (!p) {
      const timer = setTimeout(() => {
        const left = this.pending.get(requestId);
        this.pending.delete(requestId);
        this.opts.onFailure(left?.error, `timed out waiting for streams of request ${requestId}`);
        left?.data?.reset();
      }, this.opts.timeoutMs);
      timer.unref();
      p = { port, timer };
      this.pending.set(requestId, p);
    }
    if (type === StreamType.data) {
      if (p.data) return 'data stream already assigned';
      p.data = stream;
    } else {
      if (p.error) return 'error stream already assigned';
      p.error = stream;
    }
    if (p.data && p.error) {
      clearTimeout(p.timer);
      this.pending.delete(requestId);
      this.opts.onPair({ requestId, port: Number(p.data.header('port')), data: p.data, error: p.error });
    }
    return undefined;
  }

  /** Pairs still waiting for their second stream. */
  get waiting(): number {
    return this.pending.size;
  }

  stop(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}

/**
 * Serves one port-forward request on whichever transport it asks for. Resolves when the
 * connection is over.
 */
export async function servePortForward(up: UpgradeRequest, query: URLSearchParams, cfg: PortForwardConfig): Promise<void> {
  if (isWebSocketRequest(up.req)) {
    const offered = (up.req.headers['sec-websocket-protocol'] ?? '').toString();
    if (!offered.includes(spdyTunnelProtocol)) {
      // The channel protocol needs the ports up front.
      let ports: number[];
      try {
        ports = parsePortsQuery(query);
      } catch (err) {
        writeRawResponse(up.socket, 400, (err as Error).message);
        return;
      }
      const accepted = await acceptWebSocket(cfg.wss, up, [ChannelProtocol.v4, ChannelProtocol.v4Base64, '']);
      if (!accepted) return;
      return serveChannels(new WebSocketChannels(accepted.ws, accepted.protocol, { readable: ports.map((_, i) => 2 * i) }), ports, cfg);
    }
    const accepted = await acceptWebSocket(cfg.wss, up, [spdyTunnelProtocol]);
    if (!accepted) return;
    // SPDY bytes travel in binary messages; the WebSocket is the SPDY connection's socket.
    const tunnel = createWebSocketStream(accepted.ws);
    tunnel.on('error', () => undefined);
    return serveSpdy(tunnel, cfg);
  }
  if (acceptSpdyUpgrade(up, [portForwardProtocol]) === undefined) return;
  return serveSpdy(up.socket, cfg);
}

function forwardError(cfg: PortForwardConfig, port: number, err: unknown): string {
  return `error forwarding port ${port} to pod ${cfg.podDescription}: ${(err as Error).message ?? String(err)}`;
}

async function serveSpdy(socket: Duplex, cfg: PortForwardConfig): Promise<void> {
  const pairer = new StreamPairer({
    timeoutMs: cfg.streamCreationTimeoutMs ?? 30_000,
    onPair: (pair) => void runPair(pair),
    onFailure: (errorStream, message) => {
      cfg.log?.debug({ message }, 'port forward stream pair failed');
      if (errorStream) {
        errorStream.write(message);
        errorStream.end();
      }
    },
  });
  const runPair = async (pair: StreamPair) => {
    try {
      await cfg.forward(pair.port, pair.data);
      if (!pair.data.writableEnded) pair.data.end();
      pair.error.end();
    } catch (err) {
      const msg = forwardError(cfg, pair.port, err);
      cfg.log?.debug({ port: pair.port, err }, 'port forward failed');
      // The reason, then a reset: the client may open a new pair for its next connection.
      pair.error.write(msg, () => {
        pair.data.reset();
        pair.error.reset();
      });
    }
  };
  const session = new SpdySession(socket, {
    role: 'server',
    log: cfg.log,
    onStream: (s) => {
      const refused = pairer.add(s);
      if (refused) {
        cfg.log?.debug({ stream: s.id, refused }, 'port forward stream refused');
        s.reset();
        return;
      }
      void s.accept();
    },
  });
  await session.closed;
  pairer.stop();
}

/** A Duplex over one data channel: reads what the client sent, writes go back on the channel. */
function channelDuplex(readable: Readable, writable: Writable): Duplex {
  const d = new Duplex({
    read() {
      readable.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      writable.write(chunk, () => cb());
    },
    final(cb) {
      cb();
    },
  });
  readable.on('data', (c: Buffer) => {
    if (!d.push(c)) readable.pause();
  });
  readable.on('end', () => d.push(null));
  d.on('error', () => undefined);
  return d;
}

async function serveChannels(ch: WebSocketChannels, ports: number[], cfg: PortForwardConfig): Promise<void> {
  await Promise.all(
    ports.map(async (port, i) => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16LE(port);
      await ch.send(2 * i, prefix);
      await ch.send(2 * i + 1, prefix);
      const stream = channelDuplex(ch.reader(2 * i), ch.writer(2 * i));
      try {
        await cfg.forward(port, stream);
      } catch (err) {
        await ch.send(2 * i + 1, Buffer.from(forwardError(cfg, port, err)));
      }
    }),
  );
  ch.close();
}
