import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { makeEndpointSlice, makeService } from '../objects.js';
import type { ProxyState } from '../state.js';
import { base32, endpointChainName, serviceChainName } from './chain-names.js';
import { formatFixed10, probability } from './probability.js';
import { renderRestore } from './restore.js';
import { changedServices, generateRules, natChainsOf, RuleCache, type RuleGeneratorOptions } from './rules.js';

const testdata = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

/** Compares with testdata/<name>.golden; `UPDATE_GOLDEN=1 npx vitest run ...` rewrites the files. */
function expectGolden(name: string, text: string): void {
  const file = join(testdata, `${name}.golden`);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== '1') throw new Error(`missing golden ${file}; run with UPDATE_GOLDEN=1 and review it`);
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}

/**
 * Upstream's checkIPTablesRuleJumps invariant: every chain we jump to or fill was declared, every
 * jumped-to chain has rules (KUBE-NODEPORTS may be empty) and every declared per-service chain is used.
 */
function checkJumps(payload: string, existing: ReadonlySet<string> = new Set()): void {
  for (const block of payload.split('COMMIT\n').filter((b) => b.trim())) {
    const lines = block.split('\n');
    const table = lines[0]!.slice(1);
    const created = new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]!));
    for (const l of lines) if (l.startsWith('-X ')) created.delete(l.slice(3));
    const filled = new Set(lines.filter((l) => l.startsWith('-A ')).map((l) => l.split(' ')[1]!));
    const jumped = new Set(
      lines
        .filter((l) => l.startsWith('-A '))
        .map((l) => / -j (\S+)/.exec(l)?.[1])
        .filter((j): j is string => !!j && !['ACCEPT', 'REJECT', 'DROP', 'MARK', 'RETURN', 'DNAT', 'MASQUERADE'].includes(j)),
    );
    for (const j of jumped) if (!existing.has(j)) expect(created, `${table}: jump to undeclared ${j}`).toContain(j);
    for (const f of filled) expect(created, `${table}: rules in undeclared ${f}`).toContain(f);
    for (const j of jumped) if (j !== 'KUBE-NODEPORTS' && !existing.has(j)) expect(filled, `${table}: ${j} is jumped to but empty`).toContain(j);
    for (const c of created) if (/^KUBE-(SVC|SVL|EXT|FW|SEP)-/.test(c)) expect(jumped, `${table}: ${c} declared but unused`).toContain(c);
  }
}

const node = 'node-1';
const base: RuleGeneratorOptions = { nodeName: node, nodeIPs: ['192.168.77.1', '10.244.1.1'], clusterCIDR: '10.244.0.0/16' };

function golden(name: string, state: ProxyState, opts: Partial<RuleGeneratorOptions> = {}): string {
  const payload = renderRestore(generateRules(state, { ...base, ...opts }));
  checkJumps(payload);
  expectGolden(name, payload);
  return payload;
}

const web = (spec: Parameters<typeof makeService>[2] = {}) =>
  makeService('ns1', 'web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec });
const webEndpoints = (n = 3, extra: Partial<Parameters<typeof makeEndpointSlice>[2][number]> = {}) =>
  makeEndpointSlice(
    'ns1',
    'web',
    Array.from({ length: n }, (_, i) => ({ ip: `10.244.${i + 1}.${i + 2}`, nodeName: `node-${i + 1}`, ...extra })),
    [{ name: 'http', port: 8080 }],
  );

describe('chain names', () => {
  it('hash like upstream (base32 of sha256, 16 chars)', () => {
    // Values from upstream's proxier tests.
    expect(serviceChainName('ns1/svc1:p80', 'TCP')).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(endpointChainName('ns1/svc1:p80', 'TCP', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
    expect(serviceChainName('ns2/svc2:p80', 'tcp')).toBe('KUBE-SVC-GNZBNJ2PO5MGZ6GT');
  });
  it('base32 matches RFC 4648 test vectors', () => {
    const enc = (s: string) => base32(Buffer.from(s));
    expect(enc('')).toBe('');
    expect(enc('f')).toBe('MY======');
    expect(enc('fo')).toBe('MZXQ====');
    expect(enc('foo')).toBe('MZXW6===');
    expect(enc('foob')).toBe('MZXW6YQ=');
    expect(enc('fooba')).toBe('MZXW6YTB');
    expect(enc('foobar')).toBe('MZXW6YTBOI======');
  });
});

describe('probability', () => {
  it('prints 1/n with ten decimals as Go %0.10f', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(probability)).toEqual([
      '1.0000000000', '0.5000000000', '0.3333333333', '0.2500000000', '0.2000000000', '0.1666666667', '0.1428571429',
    ]);
    expect(probability(1000)).toBe('0.0010000000');
  });
  it('rounds exact ties half to even, as Go does (not up, as toFixed does)', () => {
    // 1/2048 = 0.00048828125 exactly: Go prints ...812, toFixed prints ...813.
    expect(probability(2048)).toBe('0.0004882812');
    expect((1 / 2048).toFixed(10)).toBe('0.0004882813');
    expect(formatFixed10(0.00048828125 * 3)).toBe('0.0014648438');
  });
  it('rejects nonsense', () => {
    expect(() => probability(0)).toThrow(RangeError);
    expect(() => probability(1.5)).toThrow(RangeError);
  });
  it('rule i of n endpoints has probability 1/(n-i) and the last is unconditional', () => {
    const model = generateRules({ services: [web()], endpointSlices: [webEndpoints(4)] }, base);
    const svc = model.services[0]!.rules.filter((r) => r.startsWith('-A KUBE-SVC-') && r.includes('-j KUBE-SEP-'));
    expect(svc.map((r) => / --probability (\S+)/.exec(r)?.[1] ?? 'none')).toEqual(['0.2500000000', '0.3333333333', '0.5000000000', 'none']);
  });
});

describe('golden iptables-restore payloads', () => {
  it('ClusterIP service with three endpoints', () => {
    golden('clusterip', { services: [web()], endpointSlices: [webEndpoints(3)] });
  });

  it('NodePort service, node ports on every local address', () => {
    golden('nodeport', {
      services: [web({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })],
      endpointSlices: [webEndpoints(2)],
    });
  });

  it('NodePort service with --nodeport-addresses', () => {
    const p = golden(
      'nodeport-addresses',
      { services: [web({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })], endpointSlices: [webEndpoints(1)] },
      { nodePortAddresses: ['192.168.77.0/24'] },
    );
    expect(p).toContain('-d 192.168.77.1 -j KUBE-NODEPORTS');
    expect(p).not.toContain('--dst-type LOCAL !');
  });

  it('ClientIP session affinity', () => {
    golden('session-affinity', {
      services: [web({ sessionAffinity: 'ClientIP', sessionAffinitySeconds: 300 })],
      endpointSlices: [webEndpoints(2)],
    });
  });

  it('services without endpoints are rejected in the filter table', () => {
    const p = golden('no-endpoints', {
      services: [web({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }], externalIPs: ['203.0.113.7'] })],
      endpointSlices: [webEndpoints(2, { ready: false, serving: false })],
    });
    expect(p).not.toMatch(/KUBE-SVC-|KUBE-SEP-/);
  });

  it('hairpin traffic and --masquerade-all', () => {
    const p = golden('hairpin-masquerade-all', { services: [web()], endpointSlices: [webEndpoints(1)] }, { masqueradeAll: true, clusterCIDR: undefined });
    expect(p).toContain('-s 10.244.1.2 -j KUBE-MARK-MASQ');
  });

  it('externalTrafficPolicy and internalTrafficPolicy Local', () => {
    golden('local-policy', {
      services: [
        web({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }], externalTrafficPolicy: 'Local' }),
        makeService('ns2', 'cache', { clusterIP: '10.96.0.20', ports: [{ port: 6379 }], internalTrafficPolicy: 'Local' }),
      ],
      endpointSlices: [
        webEndpoints(3),
        makeEndpointSlice('ns2', 'cache', [{ ip: '10.244.1.9', nodeName: node }, { ip: '10.244.2.9', nodeName: 'node-2' }], [{ port: 6379 }]),
      ],
    });
  });

  it('Local policy falls back to serving terminating local endpoints, and DROPs without any', () => {
    const p = golden('local-policy-fallback', {
      services: [
        web({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }], externalTrafficPolicy: 'Local' }),
        makeService('ns2', 'cache', { clusterIP: '10.96.0.20', ports: [{ port: 6379 }], internalTrafficPolicy: 'Local' }),
      ],
      endpointSlices: [
        makeEndpointSlice(
          'ns1',
          'web',
          [
            { ip: '10.244.1.2', nodeName: node, terminating: true, serving: true },
            { ip: '10.244.2.3', nodeName: 'node-2' },
          ],
          [{ name: 'http', port: 8080 }],
        ),
        makeEndpointSlice('ns2', 'cache', [{ ip: '10.244.2.9', nodeName: 'node-2' }], [{ port: 6379 }]),
      ],
    });
    expect(p).toContain('"ns2/cache has no local endpoints"');
  });

  it('externalIPs and load balancer IPs with source ranges', () => {
    golden('external-ips', {
      services: [
        web({ externalIPs: ['203.0.113.7'] }),
        makeService('ns3', 'lb', {
          type: 'LoadBalancer',
          clusterIP: '10.96.0.30',
          ports: [{ name: 'https', port: 443, nodePort: 31443 }],
          loadBalancerIPs: ['198.51.100.9'],
          loadBalancerSourceRanges: ['198.51.100.0/24', '192.168.77.0/24'],
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: 32000,
        }),
      ],
      endpointSlices: [webEndpoints(1), makeEndpointSlice('ns3', 'lb', [{ ip: '10.244.1.7', nodeName: node }], [{ name: 'https', port: 8443 }])],
    });
  });

  it('multi-port service with UDP', () => {
    golden('dns-udp-tcp', {
      services: [
        makeService('kube-system', 'kube-dns', {
          clusterIP: '10.96.0.10',
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP' },
            { name: 'dns-tcp', port: 53, protocol: 'TCP' },
          ],
        }),
      ],
      endpointSlices: [
        makeEndpointSlice('kube-system', 'kube-dns', [{ ip: '10.244.1.5', nodeName: node }, { ip: '10.244.2.5', nodeName: 'node-2' }], [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ]),
      ],
    });
  });
});

describe('what is proxied', () => {
  it('skips headless, ExternalName and IPv6-only services', () => {
    const model = generateRules(
      {
        services: [
          makeService('ns1', 'headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
          makeService('ns1', 'ext', { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] }),
          makeService('ns1', 'v6', { clusterIP: 'fd00::10', ports: [{ port: 80 }] }),
        ],
        endpointSlices: [],
      },
      base,
    );
    expect(model.services).toEqual([]);
  });

  it('merges endpoints from several slices, dropping duplicates and keeping ready copies', () => {
    const model = generateRules(
      {
        services: [web()],
        endpointSlices: [
          makeEndpointSlice('ns1', 'web', [{ ip: '10.244.1.2' }, { ip: '10.244.1.3' }], [{ name: 'http', port: 8080 }], 'web-a'),
          makeEndpointSlice('ns1', 'web', [{ ip: '10.244.1.3', terminating: true }, { ip: '10.244.1.4' }], [{ name: 'http', port: 8080 }], 'web-b'),
        ],
      },
      base,
    );
    expect(model.services[0]!.endpoints).toEqual(['10.244.1.2:8080', '10.244.1.3:8080', '10.244.1.4:8080']);
  });

  it('uses terminating endpoints only when no endpoint is ready', () => {
    const slices = (readyToo: boolean) => [
      makeEndpointSlice(
        'ns1',
        'web',
        [{ ip: '10.244.1.2', terminating: true }, ...(readyToo ? [{ ip: '10.244.1.3' }] : [])],
        [{ name: 'http', port: 8080 }],
      ),
    ];
    expect(generateRules({ services: [web()], endpointSlices: slices(true) }, base).services[0]!.endpoints).toEqual(['10.244.1.3:8080']);
    expect(generateRules({ services: [web()], endpointSlices: slices(false) }, base).services[0]!.endpoints).toEqual(['10.244.1.2:8080']);
  });
});

describe('partial syncs', () => {
  const state = (webEps: number, cacheIP = '10.244.2.9'): ProxyState => ({
    services: [web(), makeService('ns2', 'cache', { clusterIP: '10.96.0.20', ports: [{ port: 6379 }] })],
    endpointSlices: [webEndpoints(webEps), makeEndpointSlice('ns2', 'cache', [{ ip: cacheIP }], [{ port: 6379 }])],
  });

  it('detects exactly the services whose chains changed', () => {
    const a = generateRules(state(3), base);
    expect(changedServices(a, generateRules(state(3), base))).toEqual(new Set());
    expect(changedServices(a, generateRules(state(2), base))).toEqual(new Set(['ns1/web']));
    expect(changedServices(a, generateRules(state(3, '10.244.2.10'), base))).toEqual(new Set(['ns2/cache']));
    expect(changedServices(undefined, a)).toEqual(new Set(['ns1/web', 'ns2/cache']));
    expect(changedServices(a, generateRules({ services: [web()], endpointSlices: [webEndpoints(3)] }, base))).toEqual(new Set(['ns2/cache']));
  });

  it('emits only the changed chains, and deletes the stale ones', () => {
    const prev = generateRules(state(3), base);
    const next = generateRules(state(2), base);
    const removedSep = endpointChainName('ns1/web:http', 'TCP', '10.244.3.4:8080');
    const payload = renderRestore(next, { changedServices: changedServices(prev, next), deleteChains: { nat: [removedSep] } });
    checkJumps(payload, natChainsOf(prev));
    expectGolden('partial-sync', payload);
    // The unchanged service's chains are not written, but KUBE-SERVICES still jumps to them.
    const cacheSvc = serviceChainName('ns2/cache', 'TCP');
    expect(payload).not.toContain(`:${cacheSvc}`);
    expect(payload).toContain(`-j ${cacheSvc}`);
    expect(payload).toContain(`-X ${removedSep}`);
  });
});

describe('a RuleCache', () => {
  const cache = (n: number) => makeService('ns2', 'cache', { clusterIP: '10.96.0.20', type: 'NodePort', ports: [{ port: 6379, nodePort: 30079 }], ...(n ? { externalIPs: [`198.51.100.${n}`] } : {}) });
  const cacheSlice = (ip: string) => makeEndpointSlice('ns2', 'cache', [{ ip }], [{ port: 6379 }]);

  it('gives the same model as generating from scratch, sync after sync, reusing unchanged services', () => {
    const rc = new RuleCache();
    const opts = { ...base };
    const webSvc = web();
    const webSlice = webEndpoints(3);
    const states: ProxyState[] = [
      { services: [webSvc, cache(0)], endpointSlices: [webSlice, cacheSlice('10.244.2.9')] },
      // The cache's endpoint moves (a new slice object), then the service itself changes.
      { services: [webSvc, cache(0)], endpointSlices: [webSlice, cacheSlice('10.244.2.10')] },
      { services: [webSvc, cache(7)], endpointSlices: [webSlice, cacheSlice('10.244.2.10')] },
      // A second slice for web, then web without any, then web gone.
      { services: [webSvc, cache(7)], endpointSlices: [webSlice, makeEndpointSlice('ns1', 'web', [{ ip: '10.244.9.9' }], [{ name: 'http', port: 8080 }], 'web-2'), cacheSlice('10.244.2.10')] },
      { services: [webSvc, cache(7)], endpointSlices: [cacheSlice('10.244.2.10')] },
      { services: [cache(7)], endpointSlices: [webSlice, cacheSlice('10.244.2.10')] },
      { services: [webSvc, cache(7)], endpointSlices: [webSlice, cacheSlice('10.244.2.10')] },
    ];
    let prev = generateRules(states[0]!, opts, rc);
    expect(renderRestore(prev)).toBe(renderRestore(generateRules(states[0]!, opts)));
    for (const st of states.slice(1)) {
      const next = generateRules(st, opts, rc);
      const fresh = generateRules(st, opts);
      expect(renderRestore(next)).toBe(renderRestore(fresh));
      expect(changedServices(prev, next)).toEqual(changedServices(prev, fresh));
      prev = next;
    }
    // Nothing changed: the very same service objects come back, and nothing counts as changed.
    const again = generateRules(states.at(-1)!, opts, rc);
    expect(again.services.every((s, i) => s === prev.services[i])).toBe(true);
    expect(changedServices(prev, again)).toEqual(new Set());
    // Other options: nothing is reused.
    const masq = { ...base, masqueradeAll: true };
    expect(renderRestore(generateRules(states.at(-1)!, masq, rc))).toBe(renderRestore(generateRules(states.at(-1)!, masq)));
  });
});
