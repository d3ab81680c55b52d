/**
 * What CI can check of the labs without a hypervisor: shellcheck over every script in hack/ and
 * .ci/, `vagrant validate` of the Vagrantfile (every shape it takes), and the help of the
 * scripts and of tkube-lab. (The provisioning script itself runs for real in test/e2e/lab.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Shell scripts: *.sh, and files whose first line is a sh/bash shebang. */
function scripts(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && (e.name.endsWith('.sh') || /^#!.*\b(ba)?sh\b/.test(fs.readFileSync(p, 'utf8').split('\n')[0] ?? ''))) out.push(p);
    }
  };
  for (const d of ['hack', '.ci']) if (fs.existsSync(path.join(root, d))) walk(path.join(root, d));
  return out.sort();
}

describe('scripts', () => {
  test('there are scripts to check (hack/tkube-lab, hack/provision.sh, .ci/run, ...)', () => {
    const rel = scripts().map((s) => path.relative(root, s));
    expect(rel).toEqual(expect.arrayContaining(['hack/tkube-lab', 'hack/provision.sh', 'hack/install-deps.sh', 'hack/ensure-docker.sh', '.ci/run']));
  });

  test.skipIf(!has('shellcheck'))('shellcheck finds nothing in hack/ and .ci/', () => {
    const r = spawnSync('shellcheck', ['--severity=style', ...scripts()], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  test('help of the scripts', () => {
    for (const [script, want] of [['hack/tkube-lab', 'hack/tkube-lab up'], ['hack/provision.sh', 'hack/provision.sh prepare']] as const) {
      const r = spawnSync('bash', [path.join(root, script), '--help'], { encoding: 'utf8' });
      expect(r.status, script).toBe(0);
      expect(r.stdout).toContain(want);
    }
  });

  test('tkube-lab --help, and each command\'s', () => {
    const tool = path.join(root, 'dist/cmd/tkube-lab/main.js');
    expect(spawnSync(process.execPath, [tool, '--help'], { encoding: 'utf8' }).stdout).toMatch(/up .*\n.*down .*\n.*status/);
    for (const cmd of ['up', 'down', 'status', 'kubeconfig', 'logs', 'provision', 'certs', 'render', 'apiserver-flags']) {
      const r = spawnSync(process.execPath, [tool, cmd, '--help'], { encoding: 'utf8' });
      expect(r.status, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`tkube-lab ${cmd}:`);
    }
    const up = spawnSync(process.execPath, [tool, 'up', '--help'], { encoding: 'utf8' }).stdout;
    for (const f of ['--state-dir', '--bridge', '--netns-prefix', '--network-cidr', '--nodes', '--etcd-members', '--security']) expect(up).toContain(f);
  });
});

describe.skipIf(!has('vagrant'))('Vagrantfile', () => {
  // vagrant keeps its state in .vagrant/ and ~/.vagrant.d: point both at a temporary folder.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-vagrant-'));
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));
  const validate = (env: Record<string, string>) =>
    spawnSync('vagrant', ['validate'], { cwd: root, encoding: 'utf8', env: { ...process.env, VAGRANT_DOTFILE_PATH: path.join(home, 'dot'), VAGRANT_HOME: path.join(home, 'home'), VAGRANT_CHECKPOINT_DISABLE: '1', ...env }, timeout: 60_000 });

  test.each([
    ['the default (cp + worker)', {}],
    ['three workers', { TKUBE_WORKERS: '3' }],
    ['three etcd members', { ETCD_MEMBERS: '3', TKUBE_MEMORY: '3072', TKUBE_CPUS: '1' }],
  ])('vagrant validate: %s', (_name, env) => {
    const r = validate(env);
    expect(r.stdout + r.stderr).toContain('Vagrantfile validated successfully');
    expect(r.status).toBe(0);
  }, 60_000);

  test('an even etcd member count is refused with a reason', () => {
    const r = validate({ ETCD_MEMBERS: '2' });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('use 1, or 3');
  }, 60_000);

  test('validate makes no cluster CA and leaves no .vagrant/ in the checkout', () => {
    const hadCA = fs.existsSync(path.join(root, '.tkube-vagrant'));
    validate({});
    expect(fs.existsSync(path.join(root, '.tkube-vagrant'))).toBe(hadCA);
    expect(fs.existsSync(path.join(root, '.vagrant'))).toBe(false);
  }, 60_000);
});

if (!has('vagrant')) console.warn('Vagrantfile checks skipped: vagrant is not installed (apt-get install vagrant)');
if (!has('shellcheck')) console.warn('shellcheck skipped: shellcheck is not installed (apt-get install shellcheck)');
