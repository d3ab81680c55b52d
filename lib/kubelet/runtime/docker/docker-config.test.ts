import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { containerCreateOptions, containerStatusFrom, cpuQuotaFor, cpuSharesFor, dockerCapability, sandboxCreateOptions, sandboxStatusFrom } from './docker-config.js';

const pod = { uid: 'u-1', namespace: 'ns', name: 'web', attempt: 2 };
const sandbox = { id: 'sb123', metadata: pod, hostPID: false, shareProcessNamespace: false };

describe('CPU mapping (as the kubelet computes cgroup values)', () => {
  it.each([
    [undefined, 2],
    [0, 2],
    [1, 2],
    [10, 10],
    [100, 102],
    [250, 256],
    [1000, 1024],
    [2500, 2560],
    [1_000_000, 262_144],
  ])('request %s millicores → %s shares', (milli, shares) => {
    expect(cpuSharesFor(milli)).toBe(shares);
  });

  it.each([
    [undefined, 0],
    [0, 0],
    [1, 1000], // at least 1ms per period
    [10, 1000],
    [250, 25_000],
    [500, 50_000],
    [2000, 200_000],
  ])('limit %s millicores → quota %s µs per 100ms', (milli, quota) => {
    expect(cpuQuotaFor(milli)).toBe(quota);
  });
});

describe('containerCreateOptions', () => {
  it('joins the sandbox namespaces and names the container like upstream', () => {
    const o = containerCreateOptions(sandbox, { metadata: { name: 'app', attempt: 3 }, image: 'tkube/busybox:1.36' });
    expect(o.name).toBe('k8s_app_web_ns_u-1_3');
    expect(o.HostConfig).toMatchObject({ NetworkMode: 'container:sb123', IpcMode: 'container:sb123', CpuShares: 2 });
    expect(o.HostConfig?.PidMode).toBeUndefined();
    expect(o.Labels).toMatchObject({
      'io.kubernetes.pod.uid': 'u-1',
      'io.kubernetes.container.name': 'app',
      'io.kubernetes.docker.type': 'container',
      'io.kubernetes.sandbox.id': 'sb123',
      'annotation.io.kubernetes.container.restartCount': '3',
    });
    expect(o.Entrypoint).toBeUndefined();
    expect(o.Cmd).toBeUndefined();
  });

  it('shares the PID namespace only when the pod asks for it', () => {
    expect(containerCreateOptions({ ...sandbox, shareProcessNamespace: true }, { metadata: { name: 'a', attempt: 0 }, image: 'x' }).HostConfig?.PidMode).toBe('container:sb123');
    expect(containerCreateOptions({ ...sandbox, hostPID: true }, { metadata: { name: 'a', attempt: 0 }, image: 'x' }).HostConfig?.PidMode).toBe('host');
  });

  it("joins an ephemeral container's target PID namespace, unless the pod's is shared", () => {
    const debug = { metadata: { name: 'debugger', attempt: 0 }, image: 'x', pidTargetContainerId: 'app456' };
    const o = containerCreateOptions(sandbox, debug);
    expect(o.HostConfig).toMatchObject({ PidMode: 'container:app456', NetworkMode: 'container:sb123', IpcMode: 'container:sb123' });
    expect(containerCreateOptions({ ...sandbox, shareProcessNamespace: true }, debug).HostConfig?.PidMode).toBe('container:sb123');
    expect(containerCreateOptions({ ...sandbox, hostPID: true }, debug).HostConfig?.PidMode).toBe('host');
  });

  it('maps command to Entrypoint and args to Cmd, env in order, user and group', () => {
    const o = containerCreateOptions(sandbox, {
      metadata: { name: 'a', attempt: 0 },
      image: 'x',
      command: ['/bin/server'],
      args: ['--port', '80'],
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: 'x=y' },
      ],
      workingDir: '/srv',
      security: { runAsUser: 1000, runAsGroup: 3000 },
      stopSignal: 'SIGQUIT',
    });
    expect(o).toMatchObject({ Entrypoint: ['/bin/server'], Cmd: ['--port', '80'], Env: ['A=1', 'B=x=y'], WorkingDir: '/srv', User: '1000:3000', StopSignal: 'SIGQUIT' });
    expect(containerCreateOptions(sandbox, { metadata: { name: 'a', attempt: 0 }, image: 'x', security: { runAsUser: 0 } }).User).toBe('0');
  });

  it('maps resources, security and mounts', () => {
    const o = containerCreateOptions(sandbox, {
      metadata: { name: 'a', attempt: 0 },
      image: 'x',
      resources: { cpuRequestMilli: 100, cpuLimitMilli: 200, memoryLimitBytes: 128 * 1024 * 1024, oomScoreAdj: 999 },
      security: { privileged: false, readOnlyRootFilesystem: true, capabilities: { add: ['net_admin', 'CAP_SYS_TIME'], drop: ['ALL'] }, supplementalGroups: [5, 6], noNewPrivileges: true },
      mounts: [
        { hostPath: '/var/lib/tkube/pods/u-1/volumes/data', containerPath: '/data' },
        { hostPath: '/etc/config', containerPath: '/config', readOnly: true, propagation: 'rslave' },
      ],
      hostsPath: '/var/lib/tkube/pods/u-1/etc-hosts',
      resolvConfPath: '/var/lib/tkube/pods/u-1/resolv.conf',
      hostnamePath: '/var/lib/tkube/pods/u-1/etc-hostname',
    });
    expect(o.HostConfig).toMatchObject({
      CpuShares: 102,
      CpuQuota: 20_000,
      CpuPeriod: 100_000,
      Memory: 134_217_728,
      MemorySwap: 134_217_728,
      OomScoreAdj: 999,
      ReadonlyRootfs: true,
      CapAdd: ['CAP_NET_ADMIN', 'CAP_SYS_TIME'],
      CapDrop: ['ALL'],
      GroupAdd: ['5', '6'],
      SecurityOpt: ['no-new-privileges'],
      Binds: [
        '/var/lib/tkube/pods/u-1/volumes/data:/data:rw',
        '/etc/config:/config:ro,rslave',
        '/var/lib/tkube/pods/u-1/etc-hosts:/etc/hosts:rw',
        '/var/lib/tkube/pods/u-1/resolv.conf:/etc/resolv.conf:rw',
        '/var/lib/tkube/pods/u-1/etc-hostname:/etc/hostname:rw',
      ],
    });
    expect(o.HostConfig?.Privileged).toBeUndefined();
  });

  it('uses the CPU limit for shares when there is no request', () => {
    expect(containerCreateOptions(sandbox, { metadata: { name: 'a', attempt: 0 }, image: 'x', resources: { cpuLimitMilli: 500 } }).HostConfig?.CpuShares).toBe(512);
  });

  it('keeps stdin open for attach only when asked', () => {
    const o = containerCreateOptions(sandbox, { metadata: { name: 'a', attempt: 0 }, image: 'x', stdin: true, stdinOnce: true, tty: true });
    expect(o).toMatchObject({ OpenStdin: true, StdinOnce: true, Tty: true });
    expect(containerCreateOptions(sandbox, { metadata: { name: 'a', attempt: 0 }, image: 'x' }).OpenStdin).toBeUndefined();
  });

  it('normalises capability names', () => {
    expect(['NET_ADMIN', 'net_admin', 'CAP_NET_ADMIN', ' sys_time ', 'all'].map(dockerCapability)).toEqual(['CAP_NET_ADMIN', 'CAP_NET_ADMIN', 'CAP_NET_ADMIN', 'CAP_SYS_TIME', 'ALL']);
  });
});

describe('seccomp security options (as dockershim passed them)', () => {
  const app = (security: object) => containerCreateOptions(sandbox, { metadata: { name: 'a', attempt: 0 }, image: 'x', security });
  it('turns seccomp off for Unconfined, keeps the engine default for RuntimeDefault, sends a Localhost profile\'s text', () => {
    expect(app({ seccomp: { type: 'Unconfined' } }).HostConfig?.SecurityOpt).toEqual(['seccomp=unconfined']);
    expect(app({ seccomp: { type: 'RuntimeDefault' } }).HostConfig?.SecurityOpt).toBeUndefined();
    const json = '{"defaultAction":"SCMP_ACT_ALLOW"}';
    const o = containerCreateOptions(sandbox, { metadata: { name: 'a', attempt: 0 }, image: 'x', security: { seccomp: { type: 'Localhost', path: '/p.json' }, noNewPrivileges: true } }, json);
    expect(o.HostConfig?.SecurityOpt).toEqual(['no-new-privileges', `seccomp=${json}`]);
    expect(() => app({ seccomp: { type: 'Localhost', path: '/p.json' } })).toThrow(/was not read/);
  });
  it('leaves a privileged container to the engine (no seccomp option)', () => {
    expect(app({ privileged: true, seccomp: { type: 'Unconfined' } }).HostConfig?.SecurityOpt).toBeUndefined();
    expect(app({ privileged: true }).HostConfig?.Privileged).toBe(true);
  });
  it("on a node that cannot grant every capability, asks for privileged's parts with the ones it can", () => {
    const restricted = { capabilities: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], devices: ['/dev/kmsg', '/dev/sda'] };
    const o = containerCreateOptions(sandbox, { metadata: { name: 'a', attempt: 0 }, image: 'x', security: { privileged: true, capabilities: { drop: ['ALL'] }, noNewPrivileges: true } }, undefined, restricted);
    expect(o.HostConfig?.Privileged).toBeUndefined();
    expect(o.HostConfig).toMatchObject({
      CapAdd: ['CAP_CHOWN', 'CAP_SYS_ADMIN'],
      Devices: [
        { PathOnHost: '/dev/kmsg', PathInContainer: '/dev/kmsg', CgroupPermissions: 'rwm' },
        { PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' },
      ],
      DeviceCgroupRules: ['a *:* rwm'],
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined', 'label=disable'],
      MaskedPaths: [],
      ReadonlyPaths: [],
    });
    expect(o.HostConfig?.CapDrop).toBeUndefined();
    // Containers that are not privileged are as before.
    expect(containerCreateOptions(sandbox, { metadata: { name: 'a', attempt: 0 }, image: 'x', security: { capabilities: { add: ['NET_ADMIN'] } } }, undefined, restricted).HostConfig).toMatchObject({ CapAdd: ['CAP_NET_ADMIN'] });
  });
  it('gives the pause container the pod-level profile', () => {
    expect(sandboxCreateOptions({ metadata: pod, seccomp: { type: 'Unconfined' } }, 'p').HostConfig?.SecurityOpt).toEqual(['seccomp=unconfined']);
    expect(sandboxCreateOptions({ metadata: pod }, 'p').HostConfig?.SecurityOpt).toBeUndefined();
  });
});

describe('RuntimeClass handlers', () => {
  it('run the sandbox and every container of the pod with the Docker runtime the handler names', () => {
    expect(sandboxCreateOptions({ metadata: pod, runtimeHandler: 'runsc' }, 'p').HostConfig?.Runtime).toBe('runsc');
    expect(sandboxCreateOptions({ metadata: pod }, 'p').HostConfig?.Runtime).toBeUndefined();
    expect(containerCreateOptions({ ...sandbox, runtime: 'runsc' }, { metadata: { name: 'a', attempt: 0 }, image: 'x' }).HostConfig?.Runtime).toBe('runsc');
    expect(containerCreateOptions(sandbox, { metadata: { name: 'a', attempt: 0 }, image: 'x' }).HostConfig?.Runtime).toBeUndefined();
  });
});

describe('sandboxCreateOptions', () => {
  it('starts pause with no network, a shareable IPC namespace and the pod hostname', () => {
    const o = sandboxCreateOptions({ metadata: pod, labels: { app: 'web' }, annotations: { note: 'x' }, shareProcessNamespace: true, sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' } }, 'tkube/pause:3.10');
    expect(o.name).toBe('k8s_POD_web_ns_u-1_2');
    expect(o.Image).toBe('tkube/pause:3.10');
    expect(o.Hostname).toBe('web');
    expect(o.HostConfig).toMatchObject({ NetworkMode: 'none', IpcMode: 'shareable', Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' } });
    // No Docker network sandbox (and so no per-container libnetwork prestart hook).
    expect(o.NetworkDisabled).toBe(true);
    expect(o.Labels).toMatchObject({
      app: 'web',
      'annotation.note': 'x',
      'io.kubernetes.container.name': 'POD',
      'io.kubernetes.docker.type': 'podsandbox',
      'io.tkube.sandbox.share-process-namespace': 'true',
    });
  });

  it('uses the host network without a hostname for hostNetwork pods; our labels win over pod labels', () => {
    const o = sandboxCreateOptions({ metadata: pod, hostNetwork: true, hostIPC: true, hostPID: true, labels: { 'io.kubernetes.pod.uid': 'forged' } }, 'p');
    expect(o.HostConfig).toMatchObject({ NetworkMode: 'host', IpcMode: 'host', PidMode: 'host' });
    expect(o.Hostname).toBeUndefined();
    expect(o.NetworkDisabled).toBeUndefined();
    expect(o.Labels!['io.kubernetes.pod.uid']).toBe('u-1');
  });
});

function inspectInfo(state: Partial<Docker.ContainerInspectInfo['State']>, labels: Record<string, string> = {}): Docker.ContainerInspectInfo {
  return {
    Id: 'c1',
    Name: '/k8s_app_web_ns_u-1_4',
    Created: '2024-05-01T10:00:00.123456789Z',
    Image: 'sha256:abc',
    Config: { Image: 'tkube/busybox:1.36', Labels: labels },
    HostConfig: { Binds: ['/a:/b:ro'], NetworkMode: 'container:sb' },
    State: { Status: 'exited', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: '0001-01-01T00:00:00Z', FinishedAt: '0001-01-01T00:00:00Z', ...state },
  } as unknown as Docker.ContainerInspectInfo;
}

describe('containerStatusFrom', () => {
  it.each([
    [{ ExitCode: 0 }, 'Completed'],
    [{ ExitCode: 2 }, 'Error'],
    [{ ExitCode: 137, OOMKilled: true }, 'OOMKilled'],
    [{ ExitCode: 127, Error: 'exec: "nope": executable file not found in $PATH' }, 'ContainerCannotRun'],
  ])('exited with %o → reason %s', (state, reason) => {
    const st = containerStatusFrom(inspectInfo({ ...state, StartedAt: '2024-05-01T10:00:01Z', FinishedAt: '2024-05-01T10:00:02Z' }));
    expect(st.state).toBe('exited');
    expect(st.reason).toBe(reason);
    expect(st.exitCode).toBe(state.ExitCode);
    expect(st.finishedAt?.toISOString()).toBe('2024-05-01T10:00:02.000Z');
  });

  it('a container whose start failed (Docker leaves it created, with the error) is an exited instance that could not run', () => {
    const error = 'failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory: unknown';
    const st = containerStatusFrom(inspectInfo({ Status: 'created', ExitCode: 127, Error: error }));
    expect(st).toMatchObject({ state: 'exited', reason: 'ContainerCannotRun', message: error, exitCode: 127 });
    // Docker records no finish: the creation stands for it, so that back-off has a fixed start.
    expect(st.finishedAt).toEqual(st.createdAt);
    expect(st.startedAt).toBeUndefined();
  });

  it('never reports a start after the finish (Docker can stamp it late for an instant exit)', () => {
    const st = containerStatusFrom(inspectInfo({ StartedAt: '2024-05-01T10:00:02.014Z', FinishedAt: '2024-05-01T10:00:02Z' }));
    expect(st.startedAt?.toISOString()).toBe('2024-05-01T10:00:02.000Z');
    expect(st.finishedAt?.toISOString()).toBe('2024-05-01T10:00:02.000Z');
  });

  it('reads metadata from labels, falls back to the name for the restart count, and leaves unset times undefined', () => {
    const st = containerStatusFrom(inspectInfo({ Status: 'created' }, { 'io.kubernetes.container.name': 'app', 'io.kubernetes.pod.uid': 'u-1', 'annotation.hash': 'h' }));
    expect(st).toMatchObject({ state: 'created', metadata: { name: 'app', attempt: 4 }, podUID: 'u-1', annotations: { hash: 'h' }, imageId: 'sha256:abc', image: 'tkube/busybox:1.36' });
    expect(st.startedAt).toBeUndefined();
    expect(st.finishedAt).toBeUndefined();
    expect(st.exitCode).toBeUndefined();
    expect(st.mounts).toEqual([{ hostPath: '/a', containerPath: '/b', readOnly: true }]);
  });

  it('gives the pid of a running container', () => {
    const st = containerStatusFrom(inspectInfo({ Status: 'running', Running: true, Pid: 777, StartedAt: '2024-05-01T10:00:01Z' }));
    expect(st).toMatchObject({ state: 'running', pid: 777 });
  });
});

describe('sandboxStatusFrom', () => {
  it('is ready while pause runs and reports how it ended otherwise', () => {
    const labels = { 'io.kubernetes.pod.uid': 'u-1', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'ns', 'annotation.io.kubernetes.pod.sandboxAttempt': '2' };
    const ready = sandboxStatusFrom({ ...inspectInfo({ Status: 'running', Running: true, Pid: 42, StartedAt: '2024-05-01T10:00:01Z' }, labels), HostConfig: { NetworkMode: 'none' } } as Docker.ContainerInspectInfo);
    expect(ready).toMatchObject({ state: 'ready', pid: 42, metadata: { uid: 'u-1', name: 'web', namespace: 'ns', attempt: 2 }, hostNetwork: false });
    expect(ready.exitCode).toBeUndefined();
    const dead = sandboxStatusFrom(inspectInfo({ ExitCode: 137, StartedAt: '2024-05-01T10:00:01Z', FinishedAt: '2024-05-01T10:05:00Z' }, labels));
    expect(dead).toMatchObject({ state: 'notready', exitCode: 137 });
    expect(dead.pid).toBeUndefined();
  });
});
