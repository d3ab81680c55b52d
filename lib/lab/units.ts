/**
 * The systemd units of deploy/systemd, rendered for one host. The rendered unit is what a VM
 * installs in /etc/systemd/system, and its ExecStart is the very command line the
 * single-machine lab runs inside the host's network namespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HostPlan } from './plan.js';
import { expandCommand, parseUnit, renderTemplate, type TemplateVars } from './template.js';

/** A component of the cluster and the unit that runs it. */
export interface Component {
  /** Short name for `tkube-lab logs <component>`. */
  name: string;
  unit: string;
  /** The program under dist/cmd it runs, if it is a tkube program. */
  program?: string;
  /** Which hosts run it. */
  on(host: HostPlan): boolean;
}

/** Every component, in start order. */
export const components: readonly Component[] = [
  { name: 'etcd', unit: 'etcd.service', on: (h) => h.etcd },
  { name: 'apiserver', unit: 'tkube-apiserver.service', program: 'tkube-apiserver', on: (h) => h.controlPlane },
  { name: 'scheduler', unit: 'tkube-scheduler.service', program: 'tkube-scheduler', on: (h) => h.controlPlane },
  { name: 'controller-manager', unit: 'tkube-controller-manager.service', program: 'tkube-controller-manager', on: (h) => h.controlPlane },
  { name: 'kubelet', unit: 'tkube-kubelet.service', program: 'tkube-kubelet', on: (h) => h.node },
  { name: 'proxy', unit: 'tkube-proxy.service', program: 'tkube-proxy', on: (h) => h.node },
];

export function componentByName(name: string): Component | undefined {
  return components.find((c) => c.name === name || c.unit === name || c.unit === `${name}.service` || c.program === name);
}

export interface RenderedUnit {
  component: string;
  name: string;
  description: string;
  /** The unit file as systemd gets it: every variable expanded, commands one flag per line. */
  text: string;
  /** ExecStartPre commands (argv), run to completion before the main one; `ignoreFailure` for a leading `-`. */
  pre: Array<{ argv: string[]; ignoreFailure: boolean }>;
  /** The ExecStart command. */
  argv: string[];
}

/** Quotes a word for a unit file's command line when it needs it. */
function quoteWord(w: string): string {
  if (w === '' || /[\s"'\\$;]/.test(w)) return `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$')}"`;
  return w;
}

function commandText(argv: string[]): string {
  // The program and its script on the first line, then one flag per line.
  const head = argv[0]?.endsWith('/node') && argv.length > 1 ? 2 : 1;
  return [argv.slice(0, head).map(quoteWord).join(' '), ...argv.slice(head).map(quoteWord)].join(' \\\n  ');
}

export function unitTemplatePath(repoRoot: string, unit: string): string {
  return path.join(repoRoot, 'deploy/systemd', unit);
}

/** Renders deploy/systemd/<unit> with a host's variables. */
export function renderUnit(repoRoot: string, component: Component, vars: TemplateVars): RenderedUnit {
  const file = unitTemplatePath(repoRoot, component.unit);
  const template = fs.readFileSync(file, 'utf8');
  const where = `deploy/systemd/${component.unit}`;
  const parsed = parseUnit(component.unit, template);
  const argv = expandCommand(parsed.execStart, vars, where);
  const pre = parsed.execStartPre.map((line) => ({ ignoreFailure: line.startsWith('-'), argv: expandCommand(line.replace(/^-/, ''), vars, where) }));
  // The unit file: comments dropped, ${VAR}s replaced, Exec lines rewritten from the expanded argv.
  const out: string[] = [`# Rendered from ${where} by tkube-lab for ${vars.NODE_NAME ?? 'this host'}; edit the template, not this file.`];
  let skipping = false;
  let preIndex = 0;
  for (const raw of template.split('\n')) {
    if (skipping) {
      skipping = raw.trimEnd().endsWith('\\');
      continue;
    }
    if (/^\s*[#;]/.test(raw)) continue;
    const exec = /^\s*(ExecStartPre|ExecStart)\s*=/.exec(raw);
    if (exec) {
      skipping = raw.trimEnd().endsWith('\\');
      if (exec[1] === 'ExecStart') out.push(`ExecStart=${commandText(argv)}`);
      else {
        const p = pre[preIndex++]!;
        out.push(`ExecStartPre=${p.ignoreFailure ? '-' : ''}${commandText(p.argv)}`);
      }
      continue;
    }
    out.push(renderTemplate(raw, vars, where));
  }
  return { component: component.name, name: component.unit, description: renderTemplate(parsed.description, vars, where), text: out.join('\n').replace(/\n+$/, '\n'), pre, argv };
}

/** The components a host runs, rendered. */
export function renderHostUnits(repoRoot: string, host: HostPlan, vars: TemplateVars): RenderedUnit[] {
  return components.filter((c) => c.on(host)).map((c) => renderUnit(repoRoot, c, vars));
}

/** Whether a component's program is built (dist/cmd/<program>/main.js); etcd always is. */
export function isBuilt(repoRoot: string, component: Component): boolean {
  return !component.program || fs.existsSync(path.join(repoRoot, 'dist/cmd', component.program, 'main.js'));
}
