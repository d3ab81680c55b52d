/**
 * A DnsServer in a process of its own, so that a test can run it as a "pod" inside a network
 * namespace (listening on 0.0.0.0:53 there). Driven over the IPC channel:
 *   → { type: 'state', id, state, upstreams? }  ← { type: 'ok', id }
 * and ← { type: 'ready', port } once listening, ← { type: 'error', id, message } on failures.
 */
import { silentLogger } from '../../lib/base/index.js';
import { DnsServer, type DnsState } from '../../lib/dns/index.js';

type Message = { type: 'state'; id: number; state: DnsState };

const upstreams = (process.env.TKUBE_DNS_UPSTREAMS ?? '').split(',').filter(Boolean);
const server = new DnsServer({ log: silentLogger(), upstreams, forwardTimeoutMs: 500 });
const send = (m: object) => process.send?.(m);

process.on('message', (raw) => {
  const msg = raw as Message;
  try {
    if (msg.type === 'state') server.setState(msg.state);
    send({ type: 'ok', id: msg.id });
  } catch (err) {
    send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
  }
});
process.on('disconnect', () => {
  void server.close().then(() => process.exit(0));
});
const { port } = await server.listen('0.0.0.0', 53);
send({ type: 'ready', port });
