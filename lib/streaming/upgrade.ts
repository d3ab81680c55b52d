/**
 * HTTP/1.1 connection upgrades, as Kubernetes streaming endpoints use them: a request with
 * `Connection: Upgrade` asks for `Upgrade: websocket` (RFC 6455, with a Sec-WebSocket-Protocol
 * naming the Kubernetes subprotocol) or `Upgrade: SPDY/3.1` (with X-Stream-Protocol-Version
 * headers naming the Kubernetes protocol versions the client speaks). The server answers
 * `101 Switching Protocols` and the socket then carries the new protocol.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { negotiateSubprotocol, parseProtocolHeader } from './ws-channels.js';

export const headerStreamProtocolVersion = 'X-Stream-Protocol-Version';
export const headerAcceptedStreamProtocolVersions = 'X-Accepted-Stream-Protocol-Versions';
export const spdyUpgrade = 'SPDY/3.1';

/** A request whose socket is ours to answer on (Node's 'upgrade' event). */
export interface UpgradeRequest {
  req: IncomingMessage;
  socket: Duplex;
  /** Bytes that arrived after the request headers. */
  head: Buffer;
}

/** True when the Connection header asks for an upgrade (upstream's httpstream.IsUpgradeRequest). */
export function isUpgradeRequest(req: IncomingMessage): boolean {
  return /\bupgrade\b/i.test(headerList(req.headers.connection).join(','));
}

export function isWebSocketRequest(req: IncomingMessage): boolean {
  return isUpgradeRequest(req) && (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

export function isSpdyRequest(req: IncomingMessage): boolean {
  return isUpgradeRequest(req) && (req.headers.upgrade ?? '').toLowerCase().includes(spdyUpgrade.toLowerCase());
}

function headerList(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The protocols a SPDY client offers, in its order (headers may repeat or hold commas). */
export function offeredStreamProtocols(req: IncomingMessage): string[] {
  return headerList(req.headers[headerStreamProtocolVersion.toLowerCase()])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

const reasons: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/**
 * Answers on a raw socket with a complete HTTP response and closes it: for refusing an upgrade
 * request, where no ServerResponse exists.
 */
export function writeRawResponse(socket: Duplex, code: number, body: string, headers: Record<string, string | string[]> = {}): void {
  if (socket.destroyed) return;
  const payload = Buffer.from(body);
  const lines = [`HTTP/1.1 ${code} ${reasons[code] ?? 'Error'}`];
  const all: Record<string, string | string[]> = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...headers, 'Content-Length': String(payload.length), Connection: 'close' };
  for (const [k, v] of Object.entries(all)) for (const one of headerList(v)) lines.push(`${k}: ${one}`);
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), payload]));
}

/**
 * Negotiates a SPDY upgrade and answers 101: the first protocol the client offered that the
 * server supports (upstream's httpstream.Handshake). Without X-Stream-Protocol-Version the
 * client gets 400, without a common protocol 403 naming the ones accepted; both close the socket.
 * Returns the chosen protocol, or undefined when the request was refused.
 */
export function acceptSpdyUpgrade(up: UpgradeRequest, supported: readonly string[]): string | undefined {
  if (!isSpdyRequest(up.req)) {
    writeRawResponse(up.socket, 400, `unable to upgrade: missing upgrade headers in request: expected "Connection: Upgrade" and "Upgrade: ${spdyUpgrade}"`);
    return undefined;
  }
  const offered = offeredStreamProtocols(up.req);
  if (offered.length === 0) {
    writeRawResponse(up.socket, 400, `unable to upgrade: ${headerStreamProtocolVersion} is required`);
    return undefined;
  }
  const chosen = offered.find((p) => supported.includes(p));
  if (!chosen) {
    writeRawResponse(up.socket, 403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`, {
      [headerAcceptedStreamProtocolVersions]: [...supported],
    });
    return undefined;
  }
  up.socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${spdyUpgrade}\r\n${headerStreamProtocolVersion}: ${chosen}\r\n\r\n`);
  if (up.head.length > 0) up.socket.unshift(up.head);
  return chosen;
}

type NegotiatedRequest = IncomingMessage & { chosenSubprotocol?: string };

/**
 * A WebSocketServer that only performs handshakes (noServer); one per caller is enough.
 *
 * Subprotocols are negotiated in acceptWebSocket, not by ws: kubectl's port-forward tunnel asks
 * for "SPDY/3.1+portforward.k8s.io", and ws refuses a Sec-WebSocket-Protocol holding a "/"
 * (not an RFC 7230 token character) where Go's clients and servers accept it. The chosen
 * protocol is added to the 101 response here.
 */
export function newWebSocketServer(): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  wss.on('headers', (headers: string[], req: NegotiatedRequest) => {
    if (req.chosenSubprotocol) headers.push(`Sec-WebSocket-Protocol: ${req.chosenSubprotocol}`);
  });
  return wss;
}

/**
 * Completes a WebSocket handshake choosing among `supported` subprotocols ('' allows a client
 * that names none). A client whose protocols are all unknown gets 400 and the socket is closed.
 */
export function acceptWebSocket(wss: WebSocketServer, up: UpgradeRequest, supported: readonly string[]): Promise<{ ws: WebSocket; protocol: string } | undefined> {
  const req = up.req as NegotiatedRequest;
  const offered = parseProtocolHeader(req.headers['sec-websocket-protocol']);
  const chosen = negotiateSubprotocol(offered, supported);
  if (chosen === undefined) {
    writeRawResponse(up.socket, 400, `unable to upgrade: requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.filter((p) => p !== '').join(' ')}]`);
    return Promise.resolve(undefined);
  }
  req.chosenSubprotocol = chosen;
  delete req.headers['sec-websocket-protocol'];
  return new Promise((resolve) => {
    let done = false;
    up.socket.once('close', () => {
      if (!done) resolve(undefined);
    });
    wss.handleUpgrade(req, up.socket, up.head, (ws) => {
      done = true;
      resolve({ ws, protocol: chosen });
    });
  });
}
