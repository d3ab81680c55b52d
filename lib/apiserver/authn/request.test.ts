import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { x509User } from './request.js';

/** A TLS connection as x509User sees it, counting how often its certificate is read. */
function connection(cert: object, authorized = true) {
  const socket = {
    reads: 0,
    authorized,
    authorizationError: authorized ? undefined : 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    getPeerCertificate() {
      this.reads++;
      return cert;
    },
  };
  return { socket, req: () => ({ socket }) as unknown as IncomingMessage };
}

describe('x509User', () => {
  it('reads a connection\'s client certificate once, however many requests it carries', () => {
    const a = connection({ subject: { CN: 'system:node:cp', O: 'system:nodes' }, ext_key_usage: ['1.3.6.1.5.5.7.3.2'] });
    const b = connection({ subject: { CN: 'admin', O: ['system:masters', 'ops'] } });
    for (let i = 0; i < 3; i++) expect(x509User(a.req())).toEqual({ user: { username: 'system:node:cp', groups: ['system:nodes'] } });
    expect(x509User(b.req())).toEqual({ user: { username: 'admin', groups: ['system:masters', 'ops'] } });
    expect(a.socket.reads).toBe(1);
    expect(b.socket.reads).toBe(1);
  });

  it('gives each request a user of its own (adding a group to one does not reach the next)', () => {
    const a = connection({ subject: { CN: 'u', O: 'g' } });
    x509User(a.req())!.user!.groups.push('system:authenticated');
    expect(x509User(a.req())!.user!.groups).toEqual(['g']);
  });

  it('remembers a refusal too: unverified, wrong key usage, no common name; no certificate is no user', () => {
    expect(x509User(connection({ subject: { CN: 'x' } }, false).req())).toEqual({ error: 'x509: UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(x509User(connection({ subject: { CN: 'x' }, ext_key_usage: ['1.3.6.1.5.5.7.3.1'] }).req())?.error).toMatch(/incompatible key usage/);
    expect(x509User(connection({ subject: { O: 'g' } }).req())?.error).toMatch(/no common name/);
    const none = connection({});
    expect(x509User(none.req())).toBeNull();
    expect(x509User(none.req())).toBeNull();
    expect(none.socket.reads).toBe(1);
  });
});
