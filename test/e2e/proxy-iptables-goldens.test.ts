/**
 * The golden payloads of lib/proxy/iptables are real iptables-restore input: load each into a
 * fresh network namespace with `iptables-restore --noflush` and read it back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, netnsAvailable, testPrefix } from '../support/netns.js';
import { ExecProxyHost, HostCommandError, generateRules, makeEndpointSlice, makeService, renderRestore } from '../../lib/proxy/index.js';

const testdata = join(import.meta.dirname, '../../lib/proxy/iptables/testdata');

describe.skipIf(!netnsAvailable())('golden payloads load into the kernel', () => {
  let ns: Netns;
  beforeAll(async () => {
    ns = await Netns.create(`${testPrefix()}-golden`);
  });
  afterAll(async () => {
    await ns?.destroy();
  });

  const reset = async () => {
    for (const t of ['filter', 'nat']) {
      await ns.run(['iptables', '-t', t, '-F']);
      await ns.run(['iptables', '-t', t, '-X']);
    }
  };

  for (const file of readdirSync(testdata).filter((f) => f.endsWith('.golden') && f !== 'partial-sync.golden')) {
    it(file, async () => {
      await reset();
      const payload = readFileSync(join(testdata, file), 'utf8');
      await ns.run(['iptables-restore', '--noflush'], { input: payload });
      const saved = String((await ns.run(['iptables-save'])).stdout);
      for (const chain of payload.split('\n').filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]!)) {
        expect(saved).toContain(`:${chain} `);
      }
      const ruleCount = payload.split('\n').filter((l) => l.startsWith('-A ')).length;
      expect(saved.split('\n').filter((l) => l.startsWith('-A ')).length).toBe(ruleCount);
      // Readable with iptables -L, comments included.
      const listing = String((await ns.run(['iptables', '-t', 'nat', '-L', '-n'])).stdout);
      expect(listing).toContain('Chain KUBE-SERVICES');
    });
  }

  it('partial-sync.golden applies on top of the full state it was computed from', async () => {
    await reset();
    const web = makeService('ns1', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
    const cache = makeService('ns2', 'cache', { clusterIP: '10.96.0.20', ports: [{ port: 6379 }] });
    const eps = Array.from({ length: 3 }, (_, i) => ({ ip: `10.244.${i + 1}.${i + 2}`, nodeName: `node-${i + 1}` }));
    const prev = generateRules(
      {
        services: [web, cache],
        endpointSlices: [makeEndpointSlice('ns1', 'web', eps, [{ name: 'http', port: 8080 }]), makeEndpointSlice('ns2', 'cache', [{ ip: '10.244.2.9' }], [{ port: 6379 }])],
      },
      { nodeName: 'node-1', nodeIPs: ['192.168.77.1', '10.244.1.1'], clusterCIDR: '10.244.0.0/16' },
    );
    await ns.run(['iptables-restore', '--noflush'], { input: renderRestore(prev) });
    await ns.run(['iptables-restore', '--noflush'], { input: readFileSync(join(testdata, 'partial-sync.golden'), 'utf8') });
    const saved = String((await ns.run(['iptables-save', '-t', 'nat'])).stdout);
    expect(saved).not.toContain('10.244.3.4');
    expect(saved).toContain('--to-destination 10.244.2.9:6379');
    expect(saved.match(/-j KUBE-SEP-/g)?.length).toBe(3);
  });

  it('ExecProxyHost reports a rejected payload with its line, and leaves the table as it was', async () => {
    await reset();
    const host = new ExecProxyHost({ netns: ns.name });
    await host.restore('*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n');
    const bad = '*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j KUBE-SVC-DOESNOTEXIST0000\nCOMMIT\n';
    const err = await host.restore(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostCommandError);
    // The rule's line, or (nf_tables backend, which checks jumps when committing) the COMMIT after it.
    expect([3, 4]).toContain((err as HostCommandError).line);
    expect(await host.save(['nat'])).toContain('-A KUBE-SERVICES -j RETURN');
  });

  it('a -C of a missing rule rejects the payload and leaves the table as it was (the periodic full sync relies on it)', async () => {
    await reset();
    const host = new ExecProxyHost({ netns: ns.name });
    const jump = '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES';
    await host.restore(`*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j RETURN\n-I PREROUTING ${jump}\nCOMMIT\n`);
    // As the proxier writes it: the checks in a section of their own, then the table.
    const payload = (check: string) => `*nat\n-C PREROUTING ${check}\nCOMMIT\n*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -j ACCEPT\nCOMMIT\n`;
    await host.restore(payload(jump));
    expect(await host.save(['nat'])).toContain('-A KUBE-SERVICES -j ACCEPT');
    await ns.run(['iptables', '-t', 'nat', '-D', 'PREROUTING', ...['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES']]);
    const err = await host.restore(payload(jump).replace('-j ACCEPT', '-j DROP')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostCommandError);
    expect(await host.save(['nat'])).toContain('-A KUBE-SERVICES -j ACCEPT');
    expect(await host.save(['nat'])).not.toContain('-j DROP');
  });

  it('ExecProxyHost deletes conntrack entries, and treats "none matched" as success', async () => {
    const host = new ExecProxyHost({ netns: ns.name });
    expect(await host.deleteConntrack({ protocol: 'udp', origDst: '10.96.0.53', dstNat: '10.244.1.5' })).toBe(0);
    await expect(new ExecProxyHost({ netns: `${ns.name}-missing` }).deleteConntrack({ origDst: '10.96.0.53' })).rejects.toBeInstanceOf(HostCommandError);
  });
});
