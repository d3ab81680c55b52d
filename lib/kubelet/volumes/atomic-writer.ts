/**
 * Writes a set of files into a volume directory so that a reader inside a container sees
 * either the whole old set or the whole new one, never a mix (upstream's AtomicWriter, used
 * for configMap, secret, downwardAPI and projected volumes):
 *
 *   <dir>/..2026_01_01_10_00_00.123456789/   the files of one version
 *   <dir>/..data -> ..2026_01_01_10_00_00...  the current version
 *   <dir>/<name> -> ..data/<name>             what users see, for each top-level name
 *
 * An update writes a new version folder, points a temporary link at it and renames that link
 * over `..data` (rename(2) is atomic), then fixes the top-level links and removes the old
 * version. An unchanged payload writes nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** Permission bits, e.g. 0o644. */
  mode: number;
}

/** Relative path → content. */
export type Payload = Map<string, FileProjection>;

export const dataDirName = '..data';
const dataDirTmpName = '..data_tmp';

export class PayloadPathError extends Error {
  override readonly name = 'PayloadPathError';
}

/** Payload paths are relative, without `..` components, and do not start with `..` (reserved). */
export function checkPayloadPath(p: string): void {
  if (!p) throw new PayloadPathError('invalid path: must not be empty');
  if (path.isAbsolute(p)) throw new PayloadPathError(`invalid path "${p}": must be relative`);
  if (p.split('/').includes('..')) throw new PayloadPathError(`invalid path "${p}": must not contain '..'`);
  if (p.startsWith('..')) throw new PayloadPathError(`invalid path "${p}": must not start with '..'`);
}

function versionDirName(now: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const t = `${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}`;
  return `..${t}.${randomBytes(5).toString('hex')}`;
}

async function readCurrent(dir: string, versionDir: string): Promise<Map<string, { data: Buffer; mode: number }>> {
  const out = new Map<string, { data: Buffer; mode: number }>();
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(dir, versionDir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) {
        const p = path.join(dir, versionDir, r);
        const [data, st] = await Promise.all([fs.readFile(p), fs.stat(p)]);
        out.set(r, { data, mode: st.mode & 0o7777 });
      }
    }
  };
  await walk('');
  return out;
}

function samePayload(a: Payload, b: Map<string, { data: Buffer; mode: number }>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const o = b.get(k);
    if (!o || o.mode !== (v.mode & 0o7777) || !o.data.equals(v.data)) return false;
  }
  return true;
}

/**
 * What was last written into (or found in) each directory: a digest of the payload and the
 * version folder `..data` pointed to. The kubelet refreshes every volume on every sync of a
 * pod; with this, an unchanged payload costs one readlink instead of reading every file back.
 */
export class WrittenVersions {
  private readonly byDir = new Map<string, { digest: string; version: string }>();

  get(dir: string): { digest: string; version: string } | undefined {
    return this.byDir.get(dir);
  }

  set(dir: string, digest: string, version: string): void {
    this.byDir.set(dir, { digest, version });
  }

  /** Forgets every directory under `root` (a pod's folder being removed). */
  forgetUnder(root: string): void {
    const prefix = root.endsWith('/') ? root : `${root}/`;
    for (const dir of this.byDir.keys()) if (dir === root || dir.startsWith(prefix)) this.byDir.delete(dir);
  }
}

function payloadDigest(payload: Payload, gid: number | undefined): string {
  const h = createHash('sha256');
  h.update(`gid=${gid ?? ''}\0`);
  for (const [rel, f] of [...payload].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    h.update(`${rel}\0${f.mode & 0o7777}\0${f.data.length}\0`);
    h.update(f.data);
  }
  return h.digest('hex');
}

export interface WriteResult {
  /** False when the payload was already there. */
  changed: boolean;
}

/**
 * Makes `dir` hold exactly `payload`, atomically. `gid`, when given, becomes the group of the
 * files (the pod's fsGroup). Safe to call again; concurrent calls for one directory must be
 * serialised by the caller.
 */
export async function writeAtomically(dir: string, payload: Payload, opts: { gid?: number; now?: Date; written?: WrittenVersions } = {}): Promise<WriteResult> {
  for (const p of payload.keys()) checkPayloadPath(p);
  const digest = opts.written ? payloadDigest(payload, opts.gid) : '';
  const last = opts.written?.get(dir);
  let oldVersion: string | undefined;
  try {
    oldVersion = await fs.readlink(path.join(dir, dataDirName));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  }
  if (oldVersion) {
    if (last && last.digest === digest && last.version === oldVersion) return { changed: false };
    const current = await readCurrent(dir, oldVersion).catch(() => undefined);
    if (current && samePayload(payload, current)) {
      opts.written?.set(dir, digest, oldVersion);
      return { changed: false };
    }
  }

  const version = versionDirName(opts.now ?? new Date());
  const versionPath = path.join(dir, version);
  await fs.mkdir(versionPath, { mode: 0o755 });
  try {
    for (const [rel, f] of payload) {
      const p = path.join(versionPath, rel);
      await fs.mkdir(path.dirname(p), { recursive: true, mode: 0o755 });
      await fs.writeFile(p, f.data, { mode: f.mode & 0o7777 });
      // writeFile's mode is filtered by the umask; set it exactly.
      await fs.chmod(p, f.mode & 0o7777);
      if (opts.gid !== undefined) await fs.chown(p, 0, opts.gid);
    }
    const tmpLink = path.join(dir, dataDirTmpName);
    await fs.rm(tmpLink, { force: true });
    await fs.symlink(version, tmpLink);
    await fs.rename(tmpLink, path.join(dir, dataDirName));
  } catch (err) {
    await fs.rm(versionPath, { recursive: true, force: true });
    throw err;
  }

  // The user-visible links: one per top-level name, pointing through ..data.
  const wanted = new Set([...payload.keys()].map((p) => p.split('/')[0]!));
  for (const name of wanted) {
    const link = path.join(dir, name);
    const target = path.join(dataDirName, name);
    const existing = await fs.readlink(link).catch(() => undefined);
    if (existing === target) continue;
    await fs.rm(link, { recursive: true, force: true });
    await fs.symlink(target, link);
  }
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('..') || wanted.has(e.name)) continue;
    if (e.isSymbolicLink()) await fs.rm(path.join(dir, e.name), { force: true });
  }
  if (oldVersion && oldVersion !== version) await fs.rm(path.join(dir, oldVersion), { recursive: true, force: true });
  opts.written?.set(dir, digest, version);
  return { changed: true };
}
