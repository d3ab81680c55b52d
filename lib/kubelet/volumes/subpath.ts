/**
 * subPath mounts that cannot leave their volume (CVE-2017-1002101, CVE-2021-25741).
 *
 * A container can put symlinks into a volume it writes to; a later container mounting a subPath
 * of that volume must not be handed what such a link points at outside the volume (the node's
 * root, say). So the path is walked one component at a time, every symlink is resolved the way
 * the host would resolve it, and after each step the result must still be inside the volume's
 * real root; missing components are created as directories inside the volume, as upstream does.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export class SubPathError extends Error {
  override readonly name = 'SubPathError';
}

/** Symlinks followed per walk before giving up (the kernel's limit is 40). */
const maxSymlinks = 40;

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith('/') ? root : root + '/');
}

/** Checks what the API allows in a subPath: relative, no `..` component. */
export function checkSubPathSyntax(subPath: string): void {
  if (path.isAbsolute(subPath)) throw new SubPathError(`subPath "${subPath}" must be a relative path`);
  if (subPath.split('/').includes('..')) throw new SubPathError(`subPath "${subPath}" must not contain '..'`);
}

/**
 * The host path of `subPath` inside the volume at `volumeRoot`, with every symlink resolved.
 * Creates missing directories (mode 0o750) inside the volume. Throws SubPathError when the
 * path, or any link on the way, leads outside the volume.
 */
export async function resolveSubPath(volumeRoot: string, subPath: string, opts: { create?: boolean } = {}): Promise<string> {
  checkSubPathSyntax(subPath);
  const root = await fs.realpath(volumeRoot);
  const pending = subPath.split('/').filter((c) => c !== '' && c !== '.');
  let cur = root;
  let links = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === '..') {
      // Only reachable through a symlink's target; checked below like any step.
      cur = path.dirname(cur);
      if (!inside(root, cur)) throw escape(subPath, cur);
      continue;
    }
    const next = path.join(cur, comp);
    let st;
    try {
      st = await fs.lstat(next);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (opts.create === false) throw new SubPathError(`subPath "${subPath}": ${next} does not exist`);
      await fs.mkdir(next, { mode: 0o750 });
      st = await fs.lstat(next);
    }
    if (st.isSymbolicLink()) {
      if (++links > maxSymlinks) throw new SubPathError(`subPath "${subPath}": too many levels of symbolic links`);
      const target = await fs.readlink(next);
      if (path.isAbsolute(target)) {
        // An absolute link is followed from the host's /: it must point into the volume itself.
        const t = path.normalize(target);
        if (!inside(root, t)) throw escape(subPath, t);
        cur = root;
        pending.unshift(...path.relative(root, t).split('/').filter((c) => c !== ''));
      } else {
        // A relative link continues from the directory holding it; each '..' is checked above.
        pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
      }
      continue;
    }
    if (!inside(root, next)) throw escape(subPath, next);
    cur = next;
  }
  return cur;
}

function escape(subPath: string, where: string): SubPathError {
  return new SubPathError(`subPath "${subPath}" resolves to ${where}, outside the volume; symlinks that leave a volume are refused`);
}
