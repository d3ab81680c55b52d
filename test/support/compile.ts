/**
 * Turns one TypeScript entry point (and the modules it imports at run time) into JavaScript under
 * .tkube/, for tests that must run a piece of tkube in another process, e.g. inside a network
 * namespace. Files are transpiled one by one (no type check: `npm run typecheck` does that), so it
 * takes well under a second; `import type` and type-only names are dropped and never followed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** The repository root: the nearest directory up with a package.json (also when run from dist/). */
function findRepo(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'lib'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository above ${start}`);
  }
}

const repo = findRepo(import.meta.dirname);

export interface Compiled {
  /** Absolute path of the compiled entry point. */
  entry: string;
  remove(): Promise<void>;
}

export async function compileEntry(entryFromRepo: string): Promise<Compiled> {
  const outDir = join(repo, '.tkube', `build-${randomBytes(4).toString('hex')}`);
  const seen = new Set<string>();
  const queue = [join(repo, entryFromRepo)];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    const out = join(outDir, relative(repo, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
    // Follow the relative imports that survived transpilation.
    for (const m of outputText.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      queue.push(resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts'));
    }
    for (const m of outputText.matchAll(/(?:^|\n)\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      queue.push(resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts'));
    }
  }
  return {
    entry: join(outDir, entryFromRepo.replace(/\.ts$/, '.js')),
    remove: () => rm(outDir, { recursive: true, force: true }),
  };
}
