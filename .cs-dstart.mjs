import Docker from 'dockerode';
const sock = process.argv[2], mode = process.argv[3], n = Number(process.argv[4] ?? 20);
const d = new Docker({ socketPath: sock });
const tag = `csbench${Date.now()}`;
let base;
if (mode === 'join') { base = await d.createContainer({ Image: 'tkube/pause:3.10', name: `${tag}-base`, HostConfig: { NetworkMode: 'none', IpcMode: 'shareable' } }); await base.start(); }
const t0 = performance.now();
const res = await Promise.all(Array.from({ length: n }, async (_, i) => {
  const hc = mode === 'join' ? { NetworkMode: `container:${base.id}`, IpcMode: `container:${base.id}` } : mode === 'host' ? { NetworkMode: 'host', IpcMode: 'shareable' } : mode === 'noipc' ? { NetworkMode: 'none', IpcMode: 'private' } : { NetworkMode: 'none', IpcMode: 'shareable' };
  const c = await d.createContainer({ Image: 'tkube/pause:3.10', name: `${tag}-${i}`, Labels: { csbench: tag }, HostConfig: { ...hc, RestartPolicy: { Name: 'no' } } });
  const t1 = performance.now();
  await c.start();
  return [t1 - t0, performance.now() - t1];
}));
console.log(mode, 'create done p50', Math.round(res.map((r) => r[0]).sort((a, b) => a - b)[n >> 1]), 'start took p50', Math.round(res.map((r) => r[1]).sort((a, b) => a - b)[n >> 1]), 'max', Math.round(Math.max(...res.map((r) => r[1]))), 'all done', Math.round(performance.now() - t0));
const all = await d.listContainers({ all: true, filters: { name: [tag] } });
await Promise.all(all.map((c) => d.getContainer(c.Id).remove({ force: true })));
