import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret } from '../../api/index.js';
import { silentLogger } from '../../base/index.js';
import { checkPayloadPath, writeAtomically, WrittenVersions, type Payload } from './atomic-writer.js';
import { FakeMounter } from './mounter.js';
import { resolveSubPath, SubPathError } from './subpath.js';
import { checkHostPath, podObjectReferences, VolumeManager, VolumeMountError } from './volume-manager.js';

let tmp: string;
beforeEach(async () => {
  tmp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'tkube-vol-')));
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('resolveSubPath: a subPath never leaves its volume', () => {
  it.each([
    ['an absolute symlink to /', (v: string) => fs.symlink('/', path.join(v, 'escape')), 'escape', 'resolves to /, outside the volume'],
    ['a relative symlink climbing out', (v: string) => fs.symlink('../../..', path.join(v, 'up')), 'up', 'outside the volume'],
    ['a symlink to the node /etc', (v: string) => fs.symlink('/etc', path.join(v, 'etc')), 'etc/passwd', 'resolves to /etc'],
    [
      'a chain of links, the second one escaping',
      async (v: string) => {
        await fs.mkdir(path.join(v, 'a'));
        await fs.symlink('../b', path.join(v, 'a', 'link'));
        await fs.symlink('/root', path.join(v, 'b'));
      },
      'a/link/x',
      'outside the volume',
    ],
    ['.. in the subPath itself', async () => undefined, '../x', "must not contain '..'"],
    ['an absolute subPath', async () => undefined, '/etc', 'must be a relative path'],
  ])('refuses %s', async (_what, plant, sub, msg) => {
    const vol = path.join(tmp, 'vol');
    await fs.mkdir(vol);
    await plant(vol);
    const err = await resolveSubPath(vol, sub).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubPathError);
    expect((err as Error).message).toContain(msg);
  });

  it('follows links that stay inside and creates missing folders inside the volume', async () => {
    const vol = path.join(tmp, 'vol');
    await fs.mkdir(path.join(vol, 'real', 'deep'), { recursive: true });
    await fs.symlink('real', path.join(vol, 'rel'));
    await fs.symlink(path.join(vol, 'real'), path.join(vol, 'abs'));
    await fs.symlink('../real', path.join(vol, 'real', 'loop-back'));
    expect(await resolveSubPath(vol, 'rel/deep')).toBe(path.join(vol, 'real', 'deep'));
    expect(await resolveSubPath(vol, 'abs/deep')).toBe(path.join(vol, 'real', 'deep'));
    expect(await resolveSubPath(vol, 'real/loop-back/deep')).toBe(path.join(vol, 'real', 'deep'));
    expect(await resolveSubPath(vol, 'new/child')).toBe(path.join(vol, 'new', 'child'));
    expect((await fs.stat(path.join(vol, 'new', 'child'))).isDirectory()).toBe(true);
  });

  it('gives up on symlink loops', async () => {
    const vol = path.join(tmp, 'vol');
    await fs.mkdir(vol);
    await fs.symlink('b', path.join(vol, 'a'));
    await fs.symlink('a', path.join(vol, 'b'));
    await expect(resolveSubPath(vol, 'a')).rejects.toThrow(/too many levels of symbolic links/);
  });
});

describe('writeAtomically', () => {
  const payload = (entries: Record<string, string>, mode = 0o644): Payload => new Map(Object.entries(entries).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));

  it('writes a version folder, ..data and one link per top-level name', async () => {
    const dir = path.join(tmp, 'cm');
    expect(await writeAtomically(dir, payload({ a: '1', 'sub/b': '2' }, 0o600))).toEqual({ changed: true });
    expect(await fs.readlink(path.join(dir, 'a'))).toBe('..data/a');
    expect(await fs.readlink(path.join(dir, 'sub'))).toBe('..data/sub');
    expect(await fs.readFile(path.join(dir, 'sub', 'b'), 'utf8')).toBe('2');
    expect((await fs.stat(path.join(dir, 'a'))).mode & 0o777).toBe(0o600);
    expect((await fs.readlink(path.join(dir, '..data'))).startsWith('..')).toBe(true);
  });

  it('swaps ..data to a new version on change, removes gone keys and the old version, and writes nothing when unchanged', async () => {
    const dir = path.join(tmp, 'cm');
    await writeAtomically(dir, payload({ a: '1', b: '2' }));
    const v1 = await fs.readlink(path.join(dir, '..data'));
    expect(await writeAtomically(dir, payload({ a: '1', b: '2' }))).toEqual({ changed: false });
    expect(await fs.readlink(path.join(dir, '..data'))).toBe(v1);
    await writeAtomically(dir, payload({ a: 'one', c: '3' }));
    const v2 = await fs.readlink(path.join(dir, '..data'));
    expect(v2).not.toBe(v1);
    expect(await fs.readFile(path.join(dir, 'a'), 'utf8')).toBe('one');
    expect(await fs.readFile(path.join(dir, 'c'), 'utf8')).toBe('3');
    expect((await fs.readdir(dir)).sort()).toEqual(['..data', v2, 'a', 'c'].sort());
  });

  it('with WrittenVersions, knows an unchanged payload without reading the files back, and still writes a changed one or a version replaced behind its back', async () => {
    const dir = path.join(tmp, 'cm');
    const written = new WrittenVersions();
    expect(await writeAtomically(dir, payload({ a: '1' }), { written })).toEqual({ changed: true });
    const v1 = await fs.readlink(path.join(dir, '..data'));
    // Nothing is read back for the same payload: a file changed inside the version folder
    // (which containers mount read-only, so only root on the node could) goes unnoticed...
    await fs.writeFile(path.join(dir, v1, 'a'), 'changed by hand');
    expect(await writeAtomically(dir, payload({ a: '1' }), { written })).toEqual({ changed: false });
    // ...while without the record the files are compared, and the payload written again.
    expect(await writeAtomically(dir, payload({ a: '1' }))).toEqual({ changed: true });
    expect(await fs.readFile(path.join(dir, 'a'), 'utf8')).toBe('1');
    // Other content, other mode, another group: written.
    expect(await writeAtomically(dir, payload({ a: '2' }), { written })).toEqual({ changed: true });
    expect(await writeAtomically(dir, payload({ a: '2' }, 0o600), { written })).toEqual({ changed: true });
    // ..data pointed elsewhere by someone else: the payload is compared (and rewritten) again.
    const v3 = await fs.readlink(path.join(dir, '..data'));
    await fs.mkdir(path.join(dir, '..other'));
    await fs.writeFile(path.join(dir, '..other', 'a'), 'tampered');
    await fs.rm(path.join(dir, '..data'));
    await fs.symlink('..other', path.join(dir, '..data'));
    expect(await writeAtomically(dir, payload({ a: '2' }, 0o600), { written })).toEqual({ changed: true });
    expect(await fs.readFile(path.join(dir, 'a'), 'utf8')).toBe('2');
    expect(await fs.readlink(path.join(dir, '..data'))).not.toBe(v3);
    // Forgotten (the pod's folder removed): compared from disk again, and found the same.
    written.forgetUnder(tmp);
    expect(written.get(dir)).toBeUndefined();
    expect(await writeAtomically(dir, payload({ a: '2' }, 0o600), { written })).toEqual({ changed: false });
    expect(written.get(dir)?.version).toBe(await fs.readlink(path.join(dir, '..data')));
  });

  it.each(['/abs', '../up', 'a/../../b', '..hidden', ''])('refuses the payload path %j', (p) => {
    expect(() => checkPayloadPath(p)).toThrow(/invalid path/);
  });
});

describe('hostPath type checks', () => {
  it.each([
    ['Directory', 'file', 'is not a directory'],
    ['File', 'dir', 'is not a file'],
    ['Socket', 'file', 'is not a socket file'],
    ['Directory', 'missing', 'is not a directory'],
  ])('%s on a %s fails: %s', async (type, what, msg) => {
    const p = path.join(tmp, what);
    if (what === 'file') await fs.writeFile(p, '');
    if (what === 'dir') await fs.mkdir(p);
    await expect(checkHostPath(p, type)).rejects.toThrow(`hostPath type check failed: ${p} ${msg}`);
  });

  it('creates for DirectoryOrCreate and FileOrCreate', async () => {
    await checkHostPath(path.join(tmp, 'd', 'e'), 'DirectoryOrCreate');
    expect((await fs.stat(path.join(tmp, 'd', 'e'))).isDirectory()).toBe(true);
    await checkHostPath(path.join(tmp, 'f'), 'FileOrCreate');
    expect((await fs.stat(path.join(tmp, 'f'))).isFile()).toBe(true);
  });
});

describe('VolumeManager', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const cms: Record<string, ConfigMap> = { 'ns/conf': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf', namespace: 'ns' }, data: { 'app.yaml': 'x: 1', other: 'y' } } };
  const secs: Record<string, Secret> = { 'ns/tls': { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls', namespace: 'ns' }, data: { 'tls.key': b64('KEY') } } };
  const claim = (name: string, volumeName?: string, phase?: 'Bound' | 'Pending'): PersistentVolumeClaim => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'ns', uid: `uid-${name}` },
    spec: { ...(volumeName ? { volumeName } : {}) },
    ...(phase ? { status: { phase } } : {}),
  });
  const volume = (name: string, claimUID: string, source: Partial<NonNullable<PersistentVolume['spec']>>): PersistentVolume => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: { claimRef: { namespace: 'ns', name: 'x', uid: claimUID }, ...source },
  });
  const claims: Record<string, PersistentVolumeClaim> = {
    'ns/data': claim('data', 'pv-data', 'Bound'),
    'ns/disk': claim('disk', 'pv-disk', 'Bound'),
    'ns/waiting': claim('waiting', undefined, 'Pending'),
    'ns/stolen': claim('stolen', 'pv-data', 'Bound'),
    'ns/remote': claim('remote', 'pv-nfs', 'Bound'),
  };
  const volumes: Record<string, PersistentVolume> = {};
  const mounter = new FakeMounter();
  const vm = () =>
    new VolumeManager({
      rootDir: tmp,
      mounter,
      log: silentLogger(),
      getConfigMap: async (ns, n) => cms[`${ns}/${n}`],
      getSecret: async (ns, n) => secs[`${ns}/${n}`],
      getPersistentVolumeClaim: async (ns, n) => claims[`${ns}/${n}`],
      getPersistentVolume: async (n) => volumes[n],
      nodeAllocatable: () => ({ cpu: '2', memory: '4Gi' }),
      nodeName: 'node-a',
    });
  const pod = (volumes: NonNullable<Pod['spec']>['volumes']): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'uid-9', labels: { app: 'x', b: 'y' } },
    spec: { containers: [{ name: 'c', resources: { limits: { memory: '32Mi' } } }], volumes },
  });

  it('sets up emptyDir (Memory as tmpfs), configMap items, secret, downwardAPI and projected volumes', async () => {
    const p = pod([
      { name: 'scratch', emptyDir: {} },
      { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      { name: 'conf', configMap: { name: 'conf', items: [{ key: 'app.yaml', path: 'config/app.yaml', mode: 0o400 }] } },
      { name: 'tls', secret: { secretName: 'tls' } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }] } },
      { name: 'all', projected: { sources: [{ configMap: { name: 'conf', items: [{ key: 'other', path: 'other' }] } }, { downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } }] } },
    ]);
    const m = await vm().setUpPod(p);
    expect(m.get('scratch')).toMatchObject({ readOnly: false, hostPath: path.join(tmp, 'pods/uid-9/volumes/kubernetes.io~empty-dir/scratch') });
    expect(mounter.mounts.get(m.get('mem')!.hostPath)).toBe(16 * 1024 * 1024);
    expect(await fs.readFile(path.join(m.get('conf')!.hostPath, 'config/app.yaml'), 'utf8')).toBe('x: 1');
    expect(m.get('conf')!.readOnly).toBe(true);
    expect(await fs.readFile(path.join(m.get('tls')!.hostPath, 'tls.key'), 'utf8')).toBe('KEY');
    expect(await fs.readFile(path.join(m.get('info')!.hostPath, 'labels'), 'utf8')).toBe('app="x"\nb="y"');
    expect(await fs.readFile(path.join(m.get('info')!.hostPath, 'mem'), 'utf8')).toBe('32');
    expect(await fs.readFile(path.join(m.get('all')!.hostPath, 'other'), 'utf8')).toBe('y');
    expect(await fs.readFile(path.join(m.get('all')!.hostPath, 'name'), 'utf8')).toBe('p');
    await vm().tearDownPod('uid-9');
    expect(mounter.mounts.size).toBe(0);
    await expect(fs.stat(path.join(tmp, 'pods/uid-9'))).rejects.toThrow();
  });

  it.each([
    [{ name: 'v', configMap: { name: 'nope' } }, 'MountVolume.SetUp failed for volume "v" : configmap "nope" not found'],
    [{ name: 'v', secret: { secretName: 'nope' } }, 'MountVolume.SetUp failed for volume "v" : secret "nope" not found'],
    [{ name: 'v', configMap: { name: 'conf', items: [{ key: 'k', path: 'k' }] } }, 'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: k'],
    [{ name: 'v', nfs: { server: 'x', path: '/' } }, 'volume type nfs is not supported'],
  ])('reports what is missing as a FailedMount message: %j', async (v, msg) => {
    const err = await vm()
      .setUpPod(pod([v as never]))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeMountError);
    expect((err as Error).message).toContain(msg);
  });

  it('mounts a claim as the hostPath or local path of the volume it is bound to, read-only if the pod says so', async () => {
    volumes['pv-data'] = volume('pv-data', 'uid-data', { hostPath: { path: path.join(tmp, 'pv-data'), type: 'DirectoryOrCreate' } });
    await fs.mkdir(path.join(tmp, 'disk'));
    volumes['pv-disk'] = volume('pv-disk', 'uid-disk', { local: { path: path.join(tmp, 'disk') } });
    const m = await vm().setUpPod(pod([
      { name: 'a', persistentVolumeClaim: { claimName: 'data' } },
      { name: 'b', persistentVolumeClaim: { claimName: 'disk', readOnly: true } },
    ]));
    expect(m.get('a')).toEqual({ name: 'a', kind: 'persistentVolumeClaim', hostPath: path.join(tmp, 'pv-data'), readOnly: false });
    expect((await fs.stat(path.join(tmp, 'pv-data'))).isDirectory()).toBe(true);
    expect(m.get('b')).toEqual({ name: 'b', kind: 'persistentVolumeClaim', hostPath: path.join(tmp, 'disk'), readOnly: true });
    // Tearing the pod down leaves the volume's data alone.
    await fs.writeFile(path.join(tmp, 'pv-data', 'kept'), 'x');
    await vm().tearDownPod('uid-9');
    expect(await fs.readFile(path.join(tmp, 'pv-data', 'kept'), 'utf8')).toBe('x');
  });

  it('mounts an ephemeral volume through the claim made for the pod, and only that claim', async () => {
    volumes['pv-eph'] = volume('pv-eph', 'uid-p-scratch', { hostPath: { path: path.join(tmp, 'pv-eph'), type: 'DirectoryOrCreate' } });
    const eph = { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: {} } } };
    claims['ns/p-scratch'] = { ...claim('p-scratch', 'pv-eph', 'Bound'), metadata: { name: 'p-scratch', namespace: 'ns', uid: 'uid-p-scratch', ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'uid-9', controller: true }] } };
    const m = await vm().setUpPod(pod([eph as never]));
    expect(m.get('scratch')).toMatchObject({ kind: 'ephemeral', hostPath: path.join(tmp, 'pv-eph'), readOnly: false });
    claims['ns/p-scratch'] = { ...claims['ns/p-scratch']!, metadata: { ...claims['ns/p-scratch']!.metadata, ownerReferences: [] } };
    const err = await vm()
      .setUpPod(pod([eph as never]))
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('MountVolume.SetUp failed for volume "scratch" : PVC ns/p-scratch was not created for pod ns/p (pod is not owner)');
  });

  it.each([
    ['nope', 'persistentvolumeclaim "nope" not found'],
    ['waiting', 'PVC ns/waiting has non-bound phase ("Pending") or empty pvc.Spec.VolumeName ("")'],
    ['stolen', 'persistentvolume "pv-data" is not bound to claim ns/stolen'],
    ['remote', 'persistentvolume "pv-nfs" is a nfs volume; tkube-kubelet mounts hostPath and local volumes only'],
  ])('a claim that cannot be mounted (%s) is a FailedMount', async (claimName, msg) => {
    volumes['pv-data'] = volume('pv-data', 'uid-data', { hostPath: { path: path.join(tmp, 'pv-data') } });
    volumes['pv-nfs'] = volume('pv-nfs', 'uid-remote', { nfs: { server: 'nfs.example', path: '/' } });
    const err = await vm()
      .setUpPod(pod([{ name: 'v', persistentVolumeClaim: { claimName } }]))
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe(`MountVolume.SetUp failed for volume "v" : ${msg}`);
  });

  it('accepts a missing optional configMap as an empty volume', async () => {
    const m = await vm().setUpPod(pod([{ name: 'v', configMap: { name: 'nope', optional: true } }]));
    expect(await fs.readdir(m.get('v')!.hostPath)).toEqual(expect.arrayContaining(['..data']));
  });

  it('lists the objects a pod refers to', () => {
    const p = pod([{ name: 'a', configMap: { name: 'c1' } }, { name: 'b', projected: { sources: [{ secret: { name: 's1' } }] } }]);
    p.spec!.containers[0]!.envFrom = [{ configMapRef: { name: 'c2' } }];
    p.spec!.imagePullSecrets = [{ name: 'pull' }];
    const r = podObjectReferences(p);
    expect([...r.configMaps].sort()).toEqual(['ns/c1', 'ns/c2']);
    expect([...r.secrets].sort()).toEqual(['ns/pull', 'ns/s1']);
  });
});
