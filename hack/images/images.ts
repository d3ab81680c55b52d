/**
 * The container images a tkube node needs, built on this machine from Debian packages alone:
 * there is no registry to pull from. Each image is a `FROM scratch` build whose rootfs is staged
 * in a temporary folder; its inputs are hashed and the hash is written as an image label, so a
 * second run finds the image present with the same hash and skips the build.
 *
 *   tkube/pause:3.10     a static C program (pause/pause.c) that holds a pod's namespaces.
 *   tkube/busybox:1.36   busybox-static with every applet linked, root and nobody, /tmp.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { execa } from 'execa';

/** Label carrying the hash of everything an image was built from. */
export const contentHashLabel = 'io.tkube.image.content-hash';

export const pauseImage = 'tkube/pause:3.10';
export const busyboxImage = 'tkube/busybox:1.36';

/** Bump when the way images are assembled changes, so that old builds are replaced. */
const builderVersion = '1';

export interface ImageSpec {
  name: string;
  description: string;
  /** Everything that determines the image's content, in a stable order. */
  inputs(): Promise<Array<string | Buffer>>;
  /** Fills `rootfs` and returns the Dockerfile lines after `FROM scratch` and `COPY`. */
  stage(rootfs: string): Promise<string[]>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where pause.c lives: beside this file when run from source, under the repo when run from dist/. */
async function pauseSourcePath(): Promise<string> {
  const candidates = [path.join(here, 'pause', 'pause.c'), path.resolve(here, '..', '..', '..', 'hack', 'images', 'pause', 'pause.c')];
  for (const c of candidates) {
    try {
      await fs.access(c);
      return c;
    } catch {
      // try the next one
    }
  }
  throw new Error(`pause.c not found (looked in ${candidates.join(', ')}); run from a checkout of the tkube repository`);
}

const gccFlags = ['-static', '-Os', '-s', '-Wall', '-Wextra', '-Werror'];

async function toolVersion(cmd: string, what: string, installHint: string): Promise<string> {
  try {
    const r = await execa(cmd, ['--version']);
    return r.stdout.split('\n')[0] ?? '';
  } catch (err) {
    throw new Error(`${what} is needed to build the images but "${cmd} --version" failed; ${installHint}`, { cause: err });
  }
}

const pauseSpec: ImageSpec = {
  name: pauseImage,
  description: 'pod infrastructure container (static C, sleeps until SIGINT/SIGTERM, reaps zombies)',
  async inputs() {
    const src = await fs.readFile(await pauseSourcePath());
    return [src, gccFlags.join(' '), await toolVersion('gcc', 'gcc', 'install it with: apt-get install gcc libc6-dev')];
  },
  async stage(rootfs) {
    const out = path.join(rootfs, 'pause');
    try {
      await execa('gcc', [...gccFlags, '-o', out, await pauseSourcePath()]);
    } catch (err) {
      throw new Error('compiling pause.c failed; a static build needs gcc and libc6-dev (apt-get install gcc libc6-dev)', { cause: err });
    }
    return ['USER 65535:65535', 'ENTRYPOINT ["/pause"]'];
  },
};

const busyboxPath = '/usr/bin/busybox';

const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
const group = 'root:x:0:\nnobody:x:65534:\n';

const busyboxSpec: ImageSpec = {
  name: busyboxImage,
  description: 'busybox-static with applet links (sh, nc, httpd, ping, nslookup, ...)',
  async inputs() {
    let bin: Buffer;
    try {
      bin = await fs.readFile(busyboxPath);
    } catch (err) {
      throw new Error(`${busyboxPath} is missing; install it with: apt-get install busybox-static`, { cause: err });
    }
    return [bin, passwd, group];
  },
  async stage(rootfs) {
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'home', 'var/www', 'proc', 'sys', 'dev']) {
      await fs.mkdir(path.join(rootfs, d), { recursive: true });
    }
    await fs.mkdir(path.join(rootfs, 'tmp'));
    await fs.chmod(path.join(rootfs, 'tmp'), 0o1777);
    await fs.copyFile(busyboxPath, path.join(rootfs, 'bin', 'busybox'));
    await fs.chmod(path.join(rootfs, 'bin', 'busybox'), 0o755);
    const { stdout } = await execa(busyboxPath, ['--list-full']);
    for (const applet of stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
      if (applet === 'bin/busybox') continue;
      const link = path.join(rootfs, applet);
      const target = path.relative(path.dirname(link), path.join(rootfs, 'bin', 'busybox'));
      await fs.mkdir(path.dirname(link), { recursive: true });
      await fs.symlink(target, link).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
    }
    await fs.writeFile(path.join(rootfs, 'etc', 'passwd'), passwd);
    await fs.writeFile(path.join(rootfs, 'etc', 'group'), group);
    return ['ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["sh"]'];
  },
};

/** The tkube programs as an image, for the parts that run as pods (the cluster DNS add-on). */
export const tkubeImage = 'tkube/tkube:0.1.0';

const repoRoot = path.resolve(here, '..', '..', '..');

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile() && !e.name.endsWith('.map')) out.push(p);
  }
  return out.sort();
}

/** The shared libraries a dynamically linked binary needs, as ldd lists them. */
async function sharedLibraries(bin: string): Promise<string[]> {
  const { stdout } = await execa('ldd', [bin]);
  return stdout
    .split('\n')
    .map((l) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(l)?.[1])
    .filter((x): x is string => !!x);
}

/** The installed production packages (no dev dependencies), as folders under node_modules. */
async function productionPackages(): Promise<string[]> {
  const { stdout } = await execa('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: repoRoot, reject: false });
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(path.join(repoRoot, 'node_modules') + path.sep));
}

const tkubeSpec: ImageSpec = {
  name: tkubeImage,
  description: 'the tkube programs (Node.js, dist/ and production node_modules) with a busybox shell',
  async inputs() {
    const dist = path.join(repoRoot, 'dist');
    try {
      await fs.access(path.join(dist, 'cmd'));
    } catch {
      throw new Error(`${dist} has no build; run "npm run build" first`);
    }
    const files = [...(await listFiles(path.join(dist, 'cmd'))), ...(await listFiles(path.join(dist, 'lib')))];
    const parts: (string | Buffer)[] = [await fs.readFile(process.execPath), await fs.readFile(path.join(repoRoot, 'package-lock.json'))];
    for (const f of files) parts.push(path.relative(dist, f), await fs.readFile(f));
    return parts;
  },
  async stage(rootfs) {
    const node = process.execPath;
    await fs.mkdir(path.join(rootfs, 'usr/local/bin'), { recursive: true });
    await fs.copyFile(node, path.join(rootfs, 'usr/local/bin/node'));
    for (const lib of await sharedLibraries(node)) {
      await fs.mkdir(path.join(rootfs, path.dirname(lib)), { recursive: true });
      await fs.copyFile(await fs.realpath(lib), path.join(rootfs, lib));
    }
    await fs.mkdir(path.join(rootfs, 'bin'), { recursive: true });
    await fs.copyFile(busyboxPath, path.join(rootfs, 'bin/busybox'));
    for (const applet of ['sh', 'ls', 'cat', 'nslookup', 'wget', 'ps']) await fs.symlink('busybox', path.join(rootfs, 'bin', applet));
    await fs.mkdir(path.join(rootfs, 'etc'), { recursive: true });
    await fs.writeFile(path.join(rootfs, 'etc/passwd'), passwd);
    await fs.writeFile(path.join(rootfs, 'etc/group'), group);
    await fs.mkdir(path.join(rootfs, 'tmp'), { mode: 0o1777 });
    const opt = path.join(rootfs, 'opt/tkube');
    await fs.mkdir(opt, { recursive: true });
    await fs.cp(path.join(repoRoot, 'dist/cmd'), path.join(opt, 'dist/cmd'), { recursive: true });
    await fs.cp(path.join(repoRoot, 'dist/lib'), path.join(opt, 'dist/lib'), { recursive: true });
    await fs.copyFile(path.join(repoRoot, 'package.json'), path.join(opt, 'package.json'));
    for (const pkg of await productionPackages()) {
      const dest = path.join(opt, path.relative(repoRoot, pkg));
      // Nested node_modules are packages of their own in the list: copy each package without them.
      await fs.cp(pkg, dest, { recursive: true, dereference: true, filter: (src) => !path.relative(pkg, src).split(path.sep).includes('node_modules') });
    }
    return ['ENV PATH=/usr/local/bin:/bin', 'WORKDIR /opt/tkube', 'USER 65534:65534'];
  },
};

export const imageSpecs: readonly ImageSpec[] = [pauseSpec, busyboxSpec, tkubeSpec];

export async function contentHash(spec: ImageSpec): Promise<string> {
  const h = createHash('sha256');
  h.update(`tkube-images/${builderVersion}\0${spec.name}\0`);
  for (const part of await spec.inputs()) {
    h.update(String(part.length));
    h.update('\0');
    h.update(part);
  }
  return h.digest('hex');
}

export type ImageOutcome = 'present' | 'built';

export interface EnsureImageOptions {
  docker?: Docker;
  /** Rebuild even when the image is present with the same content hash. */
  force?: boolean;
  /** Progress lines (build steps), for a person watching. */
  progress?: (line: string) => void;
}

async function presentImage(docker: Docker, name: string): Promise<{ id: string; hash: string } | undefined> {
  try {
    const info = await docker.getImage(name).inspect();
    return { id: info.Id, hash: info.Config?.Labels?.[contentHashLabel] ?? '' };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/**
 * Holds a lock folder for one image so that two processes (two test workers, a test and a
 * person) do not build it at the same time; a lock older than `staleMs` is taken over.
 */
async function withBuildLock<T>(name: string, fn: () => Promise<T>, staleMs = 300_000, waitMs = 180_000): Promise<T> {
  const lock = path.join(os.tmpdir(), `tkube-image-${name.replace(/[^a-zA-Z0-9.-]/g, '_')}.lock`);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await fs.mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await fs.stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > staleMs) await fs.rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`another build of ${name} holds ${lock}; remove it if no build is running`);
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}

/** Builds one image unless it is present with the same content hash. */
export async function ensureImage(spec: ImageSpec, opts: EnsureImageOptions = {}): Promise<ImageOutcome> {
  const docker = opts.docker ?? new Docker();
  const progress = opts.progress ?? (() => {});
  const hash = await contentHash(spec);
  const before = await presentImage(docker, spec.name);
  if (!opts.force && before?.hash === hash) {
    progress(`${spec.name}: present (content ${hash.slice(0, 12)}), skipped`);
    return 'present';
  }
  return withBuildLock(spec.name, async () => {
    // Someone else may have built it while we waited for the lock.
    const existing = await presentImage(docker, spec.name);
    if (!opts.force && existing?.hash === hash) {
      progress(`${spec.name}: built meanwhile by another process (content ${hash.slice(0, 12)})`);
      return 'present';
    }
    return build(spec, hash, existing, docker, progress);
  });
}

async function build(spec: ImageSpec, hash: string, existing: { id: string; hash: string } | undefined, docker: Docker, progress: (line: string) => void): Promise<ImageOutcome> {
  progress(existing === undefined ? `${spec.name}: building` : `${spec.name}: content changed, rebuilding`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tkube-image-'));
  try {
    const rootfs = path.join(dir, 'rootfs');
    await fs.mkdir(rootfs);
    const extra = await spec.stage(rootfs);
    const dockerfile = ['FROM scratch', 'COPY rootfs/ /', `LABEL ${contentHashLabel}="${hash}" io.tkube.image.source="hack/images"`, ...extra].join('\n') + '\n';
    await fs.writeFile(path.join(dir, 'Dockerfile'), dockerfile);
    // tar keeps symlinks and modes; owner 0 so that the image's files belong to root.
    const tar = execa('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', dir, '-c', '.'], { encoding: 'buffer', buffer: false });
    const stream = await docker.buildImage(tar.stdout as unknown as NodeJS.ReadableStream, { t: spec.name, rm: true, forcerm: true });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null, events: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
          if (err) return reject(err);
          const failed = events.find((e) => e.error);
          if (failed) return reject(new Error(`docker build of ${spec.name} failed: ${failed.errorDetail?.message ?? failed.error}`));
          resolve();
        },
        (ev: { stream?: string }) => {
          const line = ev.stream?.trim();
          if (line) progress(`${spec.name}: ${line}`);
        },
      );
    });
    await tar;
    const after = await presentImage(docker, spec.name);
    if (after?.hash !== hash) throw new Error(`docker build of ${spec.name} finished but the image has no matching ${contentHashLabel} label`);
    // The replaced build is now untagged; drop it unless a container still uses it.
    if (existing && existing.id !== after.id) await docker.getImage(existing.id).remove().catch(() => undefined);
    progress(`${spec.name}: built (content ${hash.slice(0, 12)})`);
    return 'built';
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Builds every image that is missing or out of date. */
export async function ensureImages(opts: EnsureImageOptions & { only?: string[] } = {}): Promise<Record<string, ImageOutcome>> {
  const out: Record<string, ImageOutcome> = {};
  const specs = opts.only?.length ? imageSpecs.filter((s) => opts.only!.includes(s.name)) : imageSpecs;
  const unknown = (opts.only ?? []).filter((n) => !imageSpecs.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown image(s): ${unknown.join(', ')}; known: ${imageSpecs.map((s) => s.name).join(', ')}`);
  for (const spec of specs) out[spec.name] = await ensureImage(spec, opts);
  return out;
}

/** Only one build per image at a time within a process (tests in one worker share it). */
const inflight = new Map<string, Promise<ImageOutcome>>();

/** Like ensureImages for the named images, sharing in-flight builds; for tests. */
export async function ensureTestImages(names: string[] = imageSpecs.map((s) => s.name)): Promise<void> {
  for (const name of names) {
    const spec = imageSpecs.find((s) => s.name === name);
    if (!spec) throw new Error(`unknown image ${name}`);
    let p = inflight.get(name);
    if (!p) {
      p = ensureImage(spec);
      inflight.set(name, p);
      p.catch(() => inflight.delete(name));
    }
    await p;
  }
}
