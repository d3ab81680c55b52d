/**
 * Authentication of a request on the secure port, after upstream's union of authenticators:
 *
 *   1. an x509 client certificate signed by --client-ca-file: user = CN, groups = O
 *   2. a bearer token (Authorization header, or the WebSocket subprotocol
 *      base64url.bearer.authorization.k8s.io.<token>): static tokens, service account tokens
 *   3. no credentials at all: system:anonymous, when --anonymous-auth allows it
 *
 * The first that establishes a user wins, and that user also gets group system:authenticated.
 * Credentials that are present but bad get 401, even when anonymous requests are allowed.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { newUnauthorized } from '../../machinery/index.js';
import type { UserInfo } from '../../registry/index.js';
import { anonymousUser, type Authenticator } from '../auth.js';
import { InvalidTokenError, type TokenAuthenticator, type TokenResult } from './types.js';

export const authenticatedGroup = 'system:authenticated';

/** Adds system:authenticated, as every authenticated (non-anonymous) user has. */
export function withAuthenticatedGroup(u: UserInfo): UserInfo {
  if (u.username === anonymousUser.username || u.groups.includes(authenticatedGroup)) return u;
  return { ...u, groups: [...u.groups, authenticatedGroup] };
}

const clientAuthOID = '1.3.6.1.5.5.7.3.2';

type X509Result = { user?: UserInfo; error?: string } | null;

/**
 * What each connection's certificate says, read once per connection: getPeerCertificate()
 * builds a new object from the certificate on every call (~0.4 ms per request on a busy node),
 * and a connection's certificate cannot change, as the server refuses TLS renegotiation (see
 * server.ts; Go's TLS server, upstream's, never renegotiates either).
 */
const connectionUsers = new WeakMap<TLSSocket, X509Result>();

/** The user of a verified client certificate: CN is the name, each O a group. */
export function x509User(req: IncomingMessage): X509Result {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return null;
  let r = connectionUsers.get(socket);
  if (r === undefined) {
    r = readX509User(socket);
    connectionUsers.set(socket, r);
  }
  // A copy: callers may add groups to what they get.
  return r?.user ? { user: { username: r.user.username, groups: [...r.user.groups] } } : r;
}

function readX509User(socket: TLSSocket): X509Result {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return null;
  if (!socket.authorized) return { error: `x509: ${String(socket.authorizationError ?? 'certificate signed by unknown authority')}` };
  const eku = (cert as { ext_key_usage?: string[] }).ext_key_usage;
  if (eku && !eku.includes(clientAuthOID)) return { error: 'x509: certificate specifies an incompatible key usage' };
  const cn = cert.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  if (!name) return { error: 'x509: the certificate has no common name' };
  const o = cert.subject?.O;
  const groups = o === undefined ? [] : Array.isArray(o) ? [...o] : [o];
  return { user: { username: name, groups } };
}

const wsProtocolPrefix = 'base64url.bearer.authorization.k8s.io.';

/** The bearer token of a request, from its Authorization header or WebSocket subprotocols. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h) {
    const m = /^\s*bearer\s+(\S+)\s*$/i.exec(h);
    return m ? m[1] : undefined;
  }
  const protos = req.headers['sec-websocket-protocol'];
  if (typeof protos === 'string') {
    for (const p of protos.split(',').map((x) => x.trim())) {
      if (p.startsWith(wsProtocolPrefix)) {
        try {
          return Buffer.from(p.slice(wsProtocolPrefix.length), 'base64url').toString('utf8') || undefined;
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}

/** Tries token authenticators in order; null when none knows the token. */
export async function authenticateToken(list: readonly TokenAuthenticator[], token: string, audiences: string[]): Promise<{ result?: TokenResult; errors: string[] }> {
  const errors: string[] = [];
  for (const a of list) {
    try {
      const r = await a.authenticateToken(token, audiences);
      if (r) return { result: r, errors };
    } catch (err) {
      if (err instanceof InvalidTokenError) errors.push(err.message);
      else throw err;
    }
  }
  return { errors };
}

export interface RequestAuthenticatorOptions {
  /** Verify client certificates (the TLS server was given --client-ca-file). */
  x509: boolean;
  tokens: TokenAuthenticator[];
  /** The API server's audiences (--api-audiences). */
  audiences: string[];
  anonymous: boolean;
  log: Logger;
}

export class RequestAuthenticator implements Authenticator {
  constructor(private readonly o: RequestAuthenticatorOptions) {}

  async authenticate(req: IncomingMessage): Promise<UserInfo | null> {
    const errors: string[] = [];
    let sawCredentials = false;
    if (this.o.x509) {
      const r = x509User(req);
      if (r) {
        sawCredentials = true;
        if (r.user) return withAuthenticatedGroup(r.user);
        errors.push(r.error!);
      }
    }
    const token = bearerToken(req);
    if (token !== undefined) {
      sawCredentials = true;
      const { result, errors: te } = await authenticateToken(this.o.tokens, token, this.o.audiences);
      if (result) return withAuthenticatedGroup(result.user);
      errors.push(...(te.length ? te : ['invalid bearer token']));
    } else if (req.headers.authorization) {
      sawCredentials = true;
      errors.push('the Authorization header is not a bearer token');
    }
    if (!sawCredentials && this.o.anonymous) return anonymousUser;
    this.o.log.debug({ errors, url: req.url }, 'unable to authenticate the request');
    throw newUnauthorized();
  }
}
