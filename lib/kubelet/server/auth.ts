/**
 * Authentication and authorization of kubelet API requests. The hooks are the kubelet's
 * --authentication-token-webhook / --client-ca-file and --authorization-mode: this file holds
 * the interfaces, anonymous access, client certificates checked against --client-ca-file, and
 * AlwaysAllow; webhook.ts holds the TokenReview and SubjectAccessReview implementations.
 *
 * As upstream, every request is checked as a verb on a subresource of the node: GET /stats/...
 * is `get nodes/stats`, POST /exec/... is `create nodes/proxy`.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface KubeletUser {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** Returns null when the request carries no credentials it understands; throws on bad ones. */
export interface KubeletAuthenticator {
  authenticate(req: IncomingMessage): Promise<KubeletUser | null>;
}

export interface KubeletRequestAttributes {
  user: KubeletUser;
  /** get, list, watch, create, update, patch, delete (from the HTTP method). */
  verb: string;
  /** Always "nodes". */
  resource: 'nodes';
  /** stats, metrics, log, spec, checkpoint or proxy (everything else). */
  subresource: string;
  /** The node's name. */
  name: string;
  path: string;
}

export interface KubeletAuthorizer {
  authorize(attrs: KubeletRequestAttributes): Promise<{ allowed: boolean; reason?: string }>;
}

export const kubeletAnonymousUser: KubeletUser = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

export const kubeletAlwaysAllow: KubeletAuthorizer = { authorize: async () => ({ allowed: true }) };

/**
 * Users from verified client certificates: the subject's CN is the name, its O values the
 * groups (upstream's x509 authenticator). Needs the server to request certificates against a CA.
 */
export const clientCertificateAuthenticator: KubeletAuthenticator = {
  async authenticate(req) {
    const socket = req.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function') return null;
    const cert = socket.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return null;
    if (!socket.authorized) throw new Error(`client certificate is not trusted: ${String(socket.authorizationError)}`);
    const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
    const cn = subject.CN;
    const o = subject.O;
    const name = Array.isArray(cn) ? cn[0] : cn;
    if (!name) return null;
    return { name, groups: [...(Array.isArray(o) ? o : o ? [o] : []), 'system:authenticated'] };
  },
};

/**
 * The subresource a path is authorized as (upstream's kubelet auth.go, v1.32 without the
 * KubeletFineGrainedAuthz gate): /stats → stats, /metrics → metrics, /logs → log, /spec →
 * spec, /checkpoint → checkpoint; everything else, /pods, /exec, /containerLogs and /run
 * included, is proxy.
 */
export function kubeletSubresource(path: string): string {
  const first = path.split('/').filter(Boolean)[0] ?? '';
  switch (first) {
    case 'stats':
    case 'metrics':
    case 'spec':
    case 'checkpoint':
      return first;
    case 'logs':
      return 'log';
    default:
      return 'proxy';
  }
}

export function kubeletVerb(method: string): string {
  switch (method.toUpperCase()) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'get';
  }
}
