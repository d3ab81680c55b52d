import { describe, expect, it } from 'vitest';
import { deadContainersToRemove, deadSandboxesToRemove, imageMinimumGCAgeMs, imagesToRemove } from './gc.js';
import type { RelistSnapshot } from './pleg.js';
import type { ContainerSummary, ImageInfo, SandboxSummary } from './runtime/index.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
function c(id: string, pod: string, name: string, attempt: number, state: ContainerSummary['state'], sandboxId = `sb-${pod}`): ContainerSummary {
  return { id, sandboxId, podUID: pod, podNamespace: 'ns', podName: pod, metadata: { name, attempt }, image: 'i', imageId: 'sha256:i', state, createdAt: at(attempt), labels: {}, annotations: {} };
}
function sb(id: string, pod: string, attempt: number, state: SandboxSummary['state']): SandboxSummary {
  return { id, metadata: { uid: pod, namespace: 'ns', name: pod, attempt }, state, createdAt: at(attempt), labels: {}, annotations: {} };
}

describe('container garbage collection', () => {
  const snap: RelistSnapshot = {
    at: 0,
    sandboxes: [sb('sb-p0', 'p', 0, 'notready'), sb('sb-p', 'p', 1, 'ready'), sb('sb-old', 'q', 0, 'notready'), sb('sb-q', 'q', 1, 'ready')],
    containers: [
      c('a0', 'p', 'app', 0, 'exited', 'sb-p0'),
      c('a1', 'p', 'app', 1, 'exited'),
      c('a2', 'p', 'app', 2, 'exited'),
      c('a3', 'p', 'app', 3, 'running'),
      c('s0', 'p', 'side', 0, 'exited'),
      c('x0', 'gone', 'app', 0, 'exited', 'sb-gone'),
      // Instances that could not start stay "created" in Docker's list.
      c('b0', 'q', 'app', 0, 'created', 'sb-q'),
      c('b1', 'q', 'app', 1, 'created', 'sb-q'),
    ],
  };
  const known = (uid: string) => uid !== 'gone';

  it('keeps the newest instance of each container (for logs --previous), removes older dead ones of known pods', () => {
    // b0: an older instance that never started is as dead as an exited one.
    expect(deadContainersToRemove(snap, known).sort()).toEqual(['a0', 'a1', 'a2', 'b0']);
  });

  it('removes dead sandboxes that are not their pod newest and hold no containers', () => {
    expect(deadSandboxesToRemove(snap, known)).toEqual(['sb-old']);
  });
});

describe('image garbage collection', () => {
  const img = (id: string, size: number, tags = [id]): ImageInfo => ({ id, repoTags: tags, repoDigests: [], sizeBytes: size });
  const now = 10 * imageMinimumGCAgeMs;
  const images = [img('used', 100), img('old', 100), img('older', 300), img('young', 500), img('pause', 1, ['tkube/pause:3.10'])];
  const firstSeen = new Map([
    ['used', 0],
    ['old', 0],
    ['older', 0],
    ['young', now - 1000],
    ['pause', 0],
  ]);
  const lastUsed = new Map([
    ['old', 2000],
    ['older', 1000],
  ]);

  it('removes unused images, least recently used first, until enough is freed; never the pause image or young images', () => {
    const keep = (i: ImageInfo) => i.repoTags.includes('tkube/pause:3.10');
    expect(imagesToRemove(images, new Set(['used']), lastUsed, firstSeen, now, 250, keep).map((i) => i.id)).toEqual(['older']);
    expect(imagesToRemove(images, new Set(['used']), lastUsed, firstSeen, now, 350, keep).map((i) => i.id)).toEqual(['older', 'old']);
    expect(imagesToRemove(images, new Set(['used']), lastUsed, firstSeen, now, 1e9, keep).map((i) => i.id)).toEqual(['older', 'old']);
  });
});
