/**
 * Helpers for end-to-end tests of the kubelet's node layer: a fresh network namespace per test
 * file (standing for the node), and cleanup of every Docker container a test run created,
 * found by a per-run label so that nothing is left behind even when a test fails.
 */
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { execa } from 'execa';
import { ProcessCommandRunner } from '../../lib/kubelet/index.js';

/** Label put on every sandbox and container an e2e run creates. */
export const e2eRunLabel = 'io.tkube.e2e-run';

export function randomSuffix(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}

export interface TestNetns {
  name: string;
  path: string;
  runner: ProcessCommandRunner;
  remove(): Promise<void>;
}

/** Creates /run/netns/<name> (with lo up) and returns a runner for it. */
export async function createTestNetns(name: string): Promise<TestNetns> {
  await execa('ip', ['netns', 'add', name]);
  const path = `/run/netns/${name}`;
  const runner = new ProcessCommandRunner({ netnsPath: path });
  await runner.run(['ip', 'link', 'set', 'dev', 'lo', 'up']);
  return {
    name,
    path,
    runner,
    // Deleting the namespace deletes the bridge, the host ends of the veths, routes and rules in it.
    remove: async () => {
      await execa('ip', ['netns', 'del', name], { reject: false });
    },
  };
}

/** Force-removes every container carrying `e2eRunLabel=<run>`. */
export async function removeRunContainers(docker: Docker, run: string): Promise<number> {
  const rows = await docker.listContainers({ all: true, filters: { label: [`${e2eRunLabel}=${run}`] } });
  // App containers first: a sandbox cannot be removed while others use its namespaces.
  rows.sort((a, b) => Number(a.Labels['io.kubernetes.docker.type'] === 'podsandbox') - Number(b.Labels['io.kubernetes.docker.type'] === 'podsandbox'));
  for (const r of rows) await docker.getContainer(r.Id).remove({ force: true, v: true }).catch(() => undefined);
  return rows.length;
}

/** Resolves when `check` returns true, polling; rejects after `timeoutMs` naming `what`. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Reads a stream to its end as text. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks).toString();
}
