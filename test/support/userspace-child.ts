/**
 * A UserspaceProxier in a process of its own, so that a test can run it inside a network
 * namespace (`nsenter --net=... node userspace-child.js`): its listeners must live in the node's
 * namespace, and a Node.js process cannot move sockets between namespaces. Driven over the IPC
 * channel:
 *   → { type: 'state', id, state }   ← { type: 'synced', id, ports: { [servicePort]: proxyPort } }
 *   → { type: 'cleanup', id }        ← { type: 'cleaned', id }, then exits
 * and ← { type: 'ready' } once started, ← { type: 'error', id, message } on failures.
 */
import { silentLogger } from '../../lib/base/index.js';
import { ExecProxyHost, UserspaceProxier, type ProxyState } from '../../lib/proxy/index.js';

type Message = { type: 'state'; id: number; state: ProxyState } | { type: 'cleanup'; id: number };

const proxier = new UserspaceProxier({ host: new ExecProxyHost(), log: silentLogger(), nodeName: 'node-1', syncPeriodMs: 2000, minSyncPeriodMs: 50 });
const ctl = new AbortController();
const loop = proxier.start(ctl.signal);
const send = (m: object) => process.send?.(m);

process.on('message', (raw) => {
  const msg = raw as Message;
  void (async () => {
    try {
      if (msg.type === 'state') {
        proxier.setState(msg.state);
        await proxier.sync();
        const ports: Record<string, number | undefined> = {};
        for (const s of msg.state.services) for (const p of s.spec?.ports ?? []) {
          const name = `${s.metadata.namespace}/${s.metadata.name}${p.name ? `:${p.name}` : ''}`;
          ports[name] = proxier.proxyPort(name, p.protocol === 'UDP' ? 'UDP' : 'TCP');
        }
        send({ type: 'synced', id: msg.id, ports });
      } else if (msg.type === 'cleanup') {
        ctl.abort();
        await loop;
        await proxier.cleanup();
        send({ type: 'cleaned', id: msg.id });
        process.disconnect?.();
        process.exit(0);
      }
    } catch (err) {
      send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
