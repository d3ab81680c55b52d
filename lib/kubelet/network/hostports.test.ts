import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../base/index.js';
import { FakeCommandRunner } from './fake-command-runner.js';
import { HostPortManager, hostPortMappings, renderHostPortRules, type PodHostPorts } from './hostports.js';

const web: PodHostPorts = { namespace: 'default', name: 'web', ip: '10.244.1.7', mappings: [{ hostPort: 8080, containerPort: 80, protocol: 'TCP' }] };

describe('hostPortMappings', () => {
  it("takes the containers' ports with a hostPort, TCP by default, hostIP 0.0.0.0 as every address", () => {
    expect(
      hostPortMappings({
        containers: [
          { ports: [{ containerPort: 80, hostPort: 8080 }, { containerPort: 81 }] },
          { ports: [{ containerPort: 53, hostPort: 5353, protocol: 'UDP', hostIP: '192.0.2.10' }, { containerPort: 9, hostPort: 9009, hostIP: '0.0.0.0' }] },
        ],
      }),
    ).toEqual([
      { hostPort: 8080, containerPort: 80, protocol: 'TCP' },
      { hostPort: 5353, containerPort: 53, protocol: 'UDP', hostIP: '192.0.2.10' },
      { hostPort: 9009, containerPort: 9, protocol: 'TCP' },
    ]);
    expect(hostPortMappings(undefined)).toEqual([]);
  });
});

describe('renderHostPortRules', () => {
  it('a chain per port: mark the pod reaching itself, DNAT to the pod; only the hostIP when one is named', () => {
    const dns: PodHostPorts = { namespace: 'kube-system', name: 'dns', ip: '10.244.1.9', mappings: [{ hostPort: 53, containerPort: 5353, protocol: 'UDP', hostIP: '192.0.2.10' }] };
    const out = renderHostPortRules(new Map([['uid-a', web], ['uid-b', dns]]), []).split('\n');
    expect(out[0]).toBe('*nat');
    expect(out[1]).toBe(':TKUBE-HOSTPORTS - [0:0]');
    const chains = out.filter((l) => /^:TKUBE-HP-[0-9A-F]{16} - \[0:0\]$/.test(l)).map((l) => l.slice(1, 26));
    expect(chains).toHaveLength(2);
    const [a, b] = chains;
    expect(out).toContain(`-A TKUBE-HOSTPORTS -p tcp -m tcp --dport 8080 -m comment --comment "default/web: hostPort 8080/tcp" -j ${a}`);
    expect(out).toContain(`-A ${a} -s 10.244.1.7/32 -m comment --comment "tkube: a pod reaching itself through its host port" -j MARK --set-xmark 0x4000/0x4000`);
    expect(out).toContain(`-A ${a} -p tcp -m tcp -m comment --comment "default/web: hostPort 8080/tcp" -j DNAT --to-destination 10.244.1.7:80`);
    expect(out).toContain(`-A TKUBE-HOSTPORTS -d 192.0.2.10/32 -p udp -m udp --dport 53 -m comment --comment "kube-system/dns: hostPort 53/udp" -j ${b}`);
    expect(out).toContain(`-A ${b} -p udp -m udp -m comment --comment "kube-system/dns: hostPort 53/udp" -j DNAT --to-destination 10.244.1.9:5353`);
    expect(out.slice(-2)).toEqual(['COMMIT', '']);
  });

  it('deletes the chains of ports no longer held, and leaves chains of others alone', () => {
    const held = renderHostPortRules(new Map([['uid-a', web]]), []);
    const chain = held.match(/:(TKUBE-HP-[0-9A-F]{16})/)![1]!;
    const out = renderHostPortRules(new Map(), ['KUBE-SERVICES', chain, 'TKUBE-HOSTPORTS']).split('\n');
    expect(out).toEqual(['*nat', ':TKUBE-HOSTPORTS - [0:0]', `:${chain} - [0:0]`, `-X ${chain}`, 'COMMIT', '']);
  });
});

describe('HostPortManager', () => {
  it('writes the rules when a pod with host ports comes and goes, installs the jumps once, and costs nothing for pods without', async () => {
    const r = new FakeCommandRunner();
    r.on(/-C (PREROUTING|OUTPUT)/, { exitCode: 1 });
    const m = new HostPortManager({ runner: r, log: silentLogger() });
    await m.set('uid-x', { namespace: 'default', name: 'plain', ip: '10.244.1.8', mappings: [] });
    expect(r.lines()).toEqual([]);

    await m.set('uid-a', web);
    const restores = () => r.commands.filter((c) => c.argv[0] === 'iptables-restore');
    expect(restores()).toHaveLength(1);
    expect(restores()[0]!.input).toContain('--dport 8080');
    expect(r.lines().filter((l) => l.includes(' -I '))).toEqual([
      'host: iptables -w -t nat -I PREROUTING 1 -m addrtype --dst-type LOCAL -m comment --comment tkube pod host ports -j TKUBE-HOSTPORTS',
      'host: iptables -w -t nat -I OUTPUT 1 ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -m comment --comment tkube pod host ports -j TKUBE-HOSTPORTS',
    ]);

    // The same again: nothing to write.
    await m.set('uid-a', { ...web, mappings: [...web.mappings] });
    expect(restores()).toHaveLength(1);

    const chain = restores()[0]!.input!.match(/:(TKUBE-HP-[0-9A-F]{16})/)![1]!;
    r.on('iptables-save', { stdout: `*nat\n:PREROUTING ACCEPT [0:0]\n:TKUBE-HOSTPORTS - [0:0]\n:${chain} - [0:0]\nCOMMIT\n` });
    await m.remove('uid-a');
    expect(restores()).toHaveLength(2);
    expect(restores()[1]!.input).toContain(`-X ${chain}`);
    expect(restores()[1]!.input).not.toContain('--dport');
    expect(r.lines().filter((l) => l.includes(' -I '))).toHaveLength(2);
    expect(m.held().size).toBe(0);
  });
});
