import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../base/index.js';
import { isRuntimeUnavailable, RuntimeError } from '../errors.js';
import { DockerRuntime } from './docker-runtime.js';

describe('DockerRuntime without an engine', () => {
  const rt = new DockerRuntime({ log: silentLogger(), socketPath: '/nonexistent/tkube-docker.sock' });

  it.each([
    ['version', () => rt.version()],
    ['listSandboxes', () => rt.listSandboxes()],
    ['listContainers', () => rt.listContainers()],
    ['inspectContainer', () => rt.inspectContainer('abc')],
    ['imageStatus', () => rt.imageStatus('tkube/pause:3.10')],
  ])('%s fails as Unavailable and says what to do', async (_name, call) => {
    const err = await call().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect(err).toSatisfy(isRuntimeUnavailable);
    expect((err as Error).message).toMatch(/is dockerd running\?/);
  });

  it('uses tkube/pause:3.10 as the pod infra image unless told otherwise', () => {
    expect(rt.podInfraContainerImage).toBe('tkube/pause:3.10');
    expect(new DockerRuntime({ log: silentLogger(), podInfraContainerImage: 'registry.k8s.io/pause:3.10' }).podInfraContainerImage).toBe('registry.k8s.io/pause:3.10');
  });
});
