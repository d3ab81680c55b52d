/**
 * What starts and stops a host's components. Provisioning (lib/lab/provision.ts) hands
 * rendered units to a ServiceManager and does not know which one it has:
 *
 *   SystemdServiceManager   a VM: the unit goes to /etc/systemd/system, systemctl enables and
 *                           starts it; logs are in the journal.
 *   NetnsServiceManager     the single-machine lab: the unit's ExecStartPre and ExecStart run
 *                           inside the host's network and UTS namespaces (`nsenter --net=...
 *                           --uts=...`, the very same argv), detached, with a pid file and a log file in the state
 *                           folder.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { RenderedUnit } from './units.js';

export interface ServiceManager {
  /** Installs the unit and starts it; restarts it when its rendering changed. Does not wait for health. */
  apply(unit: RenderedUnit): Promise<'started' | 'restarted' | 'unchanged'>;
  stop(unitName: string): Promise<boolean>;
  isRunning(unitName: string): boolean;
  /** Where to read the component's log, for people. */
  logHint(unitName: string): string;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class SystemdServiceManager implements ServiceManager {
  constructor(private readonly unitDir = '/etc/systemd/system') {}

  async apply(unit: RenderedUnit): Promise<'started' | 'restarted' | 'unchanged'> {
    const file = path.join(this.unitDir, unit.name);
    const changed = !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== unit.text;
    if (changed) {
      fs.writeFileSync(file, unit.text);
      run('systemctl', ['daemon-reload']);
    }
    run('systemctl', ['enable', '--quiet', unit.name]);
    const active = this.isRunning(unit.name);
    if (active && !changed) return 'unchanged';
    // --no-block: etcd (Type=notify) waits for its peers; provisioning waits on health instead.
    run('systemctl', [active ? 'restart' : 'start', '--no-block', unit.name]);
    return active ? 'restarted' : 'started';
  }

  async stop(unitName: string): Promise<boolean> {
    const was = this.isRunning(unitName);
    spawnSync('systemctl', ['disable', '--now', unitName], { stdio: 'ignore' });
    return was;
  }

  isRunning(unitName: string): boolean {
    const r = spawnSync('systemctl', ['is-active', '--quiet', unitName]);
    return r.status === 0 || spawnSync('systemctl', ['is-active', unitName], { encoding: 'utf8' }).stdout.trim() === 'activating';
  }

  logHint(unitName: string): string {
    return `journalctl -u ${unitName}`;
  }
}

interface PidRecord {
  /** The process to signal: the component, or the supervisor that restarts it. */
  pid: number;
  /** Its command line (to tell it from a recycled pid). */
  argv: string[];
  /** The unit's ExecStart (when a supervisor runs it, argv is the supervisor's). */
  unitArgv?: string[];
  started: string;
}

/** A unit's Restart= policy the lab honours (always, on-failure), with RestartSec (default 100 ms, as systemd). */
export function restartPolicyOf(unitText: string): { policy: 'always' | 'on-failure'; delaySec: number } | undefined {
  const policy = /^Restart=(always|on-failure)\s*$/m.exec(unitText)?.[1] as 'always' | 'on-failure' | undefined;
  if (!policy) return undefined;
  const sec = /^RestartSec=(\d+(?:\.\d+)?)s?\s*$/m.exec(unitText)?.[1];
  return { policy, delaySec: sec ? Number(sec) : 0.1 };
}

/**
 * What runs a unit with a Restart= policy, as systemd would: the command again after the delay
 * whenever it exits (on-failure: with a non-zero status or a signal). SIGTERM stops it for good:
 * the command gets SIGTERM and is waited for. The pid file holds the supervisor's pid; its
 * command line ends with the unit's own.
 */
const supervisorScript = [
  'name=$1 policy=$2 delay=$3; shift 3; child=',
  // The command goes when the supervisor goes, and as abruptly: a supervisor killed outright
  // (SIGKILL) is a crash of the component too (it releases nothing), as a dead VM would be.
  'wrap=; if command -v setpriv >/dev/null 2>&1; then wrap="setpriv --pdeathsig KILL --"; fi',
  'trap \'trap - TERM INT; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0\' TERM INT',
  'while :; do',
  '  $wrap "$@" & child=$!',
  '  wait "$child"; code=$?',
  '  if [ "$policy" = on-failure ] && [ "$code" -eq 0 ]; then exit 0; fi',
  '  echo "==> $(date -u +%Y-%m-%dT%H:%M:%SZ) tkube-lab: $name exited (status $code); starting it again in ${delay}s (Restart=$policy)"',
  '  sleep "$delay" & child=$!',
  '  wait "$child"',
  'done',
].join('\n');

/** The command line of a live process, or undefined. */
function cmdlineOf(pid: number): string[] | undefined {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z';
  } catch {
    return true;
  }
}

function sameArgv(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export interface NetnsServiceOptions {
  /** /run/netns/<name> of the host. */
  netnsPath: string;
  /** The host's own UTS namespace (its hostname), a bind-mounted namespace file; none: this machine's. */
  utsPath?: string;
  /** Rendered units are kept here, for people to read. */
  unitDir: string;
  /** <component>.log files. */
  logDir: string;
  /** <unit>.pid files. */
  runDir: string;
  /** How long stop waits after SIGTERM before SIGKILL, for a unit without TimeoutStopSec (default 10 s). */
  defaultStopTimeoutMs?: number;
  /** Reads a process's command line (default: /proc/<pid>/cmdline); tests stand in for a process caught mid-exec. */
  readCmdline?: (pid: number) => string[] | undefined;
}

/** A unit's TimeoutStopSec (whole seconds, as the lab's units write it) in ms, or undefined. */
export function stopTimeoutOf(unitText: string): number | undefined {
  const m = /^TimeoutStopSec=(\d+)s?\s*$/m.exec(unitText);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** Runs units as detached processes inside a network namespace (the lab's hosts). */
export class NetnsServiceManager implements ServiceManager {
  private readonly cmdlineOf: (pid: number) => string[] | undefined;

  constructor(private readonly o: NetnsServiceOptions) {
    for (const d of [o.unitDir, o.logDir, o.runDir]) fs.mkdirSync(d, { recursive: true });
    this.cmdlineOf = o.readCmdline ?? cmdlineOf;
  }

  /** nsenter's arguments that put a command into the host's namespaces. */
  private enter(): string[] {
    return [`--net=${this.o.netnsPath}`, ...(this.o.utsPath ? [`--uts=${this.o.utsPath}`] : []), '--'];
  }

  private pidFile(unitName: string): string {
    return path.join(this.o.runDir, `${unitName}.pid`);
  }

  logFile(unitName: string): string {
    return path.join(this.o.logDir, `${unitName.replace(/^tkube-/, '').replace(/\.service$/, '')}.log`);
  }

  /** The live process of a unit: the recorded pid, still running the recorded command line. */
  private live(unitName: string): PidRecord | undefined {
    let rec: PidRecord;
    try {
      rec = JSON.parse(fs.readFileSync(this.pidFile(unitName), 'utf8')) as PidRecord;
    } catch {
      return undefined;
    }
    const cmd = this.cmdlineOf(rec.pid);
    return cmd && sameArgv(cmd, rec.argv) ? rec : undefined;
  }

  isRunning(unitName: string): boolean {
    return this.live(unitName) !== undefined;
  }

  pidOf(unitName: string): number | undefined {
    return this.live(unitName)?.pid;
  }

  async apply(unit: RenderedUnit): Promise<'started' | 'restarted' | 'unchanged'> {
    fs.writeFileSync(path.join(this.o.unitDir, unit.name), unit.text);
    const cur = this.live(unit.name);
    if (cur && sameArgv(cur.unitArgv ?? cur.argv, unit.argv)) return 'unchanged';
    if (cur) await this.stop(unit.name);
    const log = fs.openSync(this.logFile(unit.name), 'a');
    try {
      fs.writeSync(log, `\n==> ${new Date().toISOString()} tkube-lab starts ${unit.name}: ${unit.argv.join(' ')}\n`);
      for (const p of unit.pre) {
        const r = spawnSync('nsenter', [...this.enter(), ...p.argv], { stdio: ['ignore', log, log] });
        if (r.status !== 0 && !p.ignoreFailure) throw new Error(`${unit.name}: ExecStartPre ${p.argv.join(' ')} failed (exit ${r.status}); see ${this.logFile(unit.name)}`);
      }
      // nsenter enters the namespaces and execs the command (or its supervisor, for a unit that
      // restarts): the pid is the component's own, or the supervisor's.
      const restart = restartPolicyOf(unit.text);
      const argv = restart ? ['sh', '-c', supervisorScript, 'tkube-lab-supervise', unit.name, restart.policy, String(restart.delaySec), ...unit.argv] : unit.argv;
      const child = spawn('nsenter', [...this.enter(), ...argv], { detached: true, stdio: ['ignore', log, log] });
      const pid = child.pid;
      child.unref();
      if (pid === undefined) throw new Error(`${unit.name}: could not start ${unit.argv[0]}`);
      // Wait for nsenter's exec: until then /proc shows nsenter's command line, and for an instant
      // inside execve an empty one. The record holds the command line asked for (nsenter execs it
      // as given), never one read mid-exec, which would later make a live unit look stopped.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const cmd = this.cmdlineOf(pid);
        if (!cmd) throw new Error(`${unit.name} exited at once; see ${this.logFile(unit.name)}`);
        if (sameArgv(cmd, argv)) break;
        if (Date.now() > deadline) throw new Error(`${unit.name}: still not running ${argv[0]} after 30 s (pid ${pid} runs ${cmd.join(' ') || '(nothing yet)'}); see ${this.logFile(unit.name)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      fs.writeFileSync(this.pidFile(unit.name), JSON.stringify({ pid, argv, unitArgv: unit.argv, started: new Date().toISOString() } satisfies PidRecord));
    } finally {
      fs.closeSync(log);
    }
    return cur ? 'restarted' : 'started';
  }

  /**
   * SIGTERM, then SIGKILL after the grace: `graceMs`, else the installed unit's TimeoutStopSec
   * (a dockerd stops its containers before it exits: killed early, it leaves them running).
   */
  async stop(unitName: string, graceMs?: number): Promise<boolean> {
    if (graceMs === undefined) {
      let text = '';
      try {
        text = fs.readFileSync(path.join(this.o.unitDir, unitName), 'utf8');
      } catch {
        /* not installed here: the default */
      }
      graceMs = stopTimeoutOf(text) ?? this.o.defaultStopTimeoutMs ?? 10_000;
    }
    const rec = this.live(unitName);
    fs.rmSync(this.pidFile(unitName), { force: true });
    if (!rec) return false;
    try {
      process.kill(rec.pid, 'SIGTERM');
    } catch {
      return true;
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      if (!this.cmdlineOf(rec.pid) || isZombie(rec.pid)) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    // The whole process group (the lab starts each unit in its own): a supervisor's command too.
    for (const target of [-rec.pid, rec.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    return true;
  }

  /** Units with a pid file (running or not). */
  recordedUnits(): string[] {
    try {
      return fs.readdirSync(this.o.runDir).filter((f) => f.endsWith('.pid')).map((f) => f.slice(0, -4));
    } catch {
      return [];
    }
  }

  logHint(unitName: string): string {
    return this.logFile(unitName);
  }
}
