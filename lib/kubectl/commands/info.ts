/**
 * What the server is and serves: `api-resources`, `api-versions`, `version`, `cluster-info`;
 * and the commands that need a kubelet stream tkubectl does not speak yet (`exec`, `attach`,
 * `port-forward`), which say so plainly.
 */
import type { Command } from '../cli/command.js';
import { CommandError } from '../cli/errors.js';
import { f } from '../cli/flags.js';
import { apiVersionOfResource, type APIResource } from '../discovery.js';
import { formatObjects } from '../printers/index.js';
import { alignRows } from '../printers/tabwriter.js';
import { resourcePath } from '../resource/builder.js';

export const clientVersion = { major: '1', minor: '32', gitVersion: 'v1.32.0-tkubectl.0.1.0', gitCommit: '', gitTreeState: 'clean', buildDate: '', goVersion: `node${process.versions.node}`, compiler: 'tsc', platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}` };

export const apiResourcesCommand: Command = {
  name: 'api-resources',
  short: 'Print the supported API resources on the server',
  group: 'Other Commands:',
  usage: '[flags]',
  flags: {
    output: f('string', '', 'Output format. One of: (wide, name).', { short: 'o' }),
    namespaced: f('bool', true, 'If false, non-namespaced resources will be returned, otherwise returning namespaced resources by default.'),
    'api-group': f('string', '', 'Limit to resources in the specified API group.'),
    verbs: f('stringSlice', [], 'Limit to resources that support the specified verbs.'),
    'no-headers': f('bool', false, "When using the default or custom-column output format, don't print headers (default print headers)."),
    'sort-by': f('string', '', "If non-empty, sort list of resources using specified field. One of (name, kind)."),
    cached: f('bool', false, 'Use the cached list of resources if available.'),
    categories: f('stringSlice', [], 'Limit to resources that belong to the specified categories.'),
  },
  async run(ctx) {
    const mapper = await ctx.f.mapper();
    let rs: APIResource[] = mapper.preferred().filter((r) => r.verbs.length > 0);
    if (ctx.changed.has('namespaced')) rs = rs.filter((r) => r.namespaced === ctx.flags.namespaced);
    if (ctx.changed.has('api-group')) rs = rs.filter((r) => r.group === ctx.flags['api-group']);
    for (const v of ctx.flags.verbs as string[]) rs = rs.filter((r) => r.verbs.includes(v));
    for (const c of ctx.flags.categories as string[]) rs = rs.filter((r) => r.categories.includes(c));
    const sortBy = ctx.flags['sort-by'] as string;
    rs = [...rs].sort((a, b) => {
      if (sortBy === 'kind') return a.kind.localeCompare(b.kind);
      if (sortBy === 'name') return a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0;
      return a.group === b.group ? (a.resource < b.resource ? -1 : 1) : a.group < b.group ? -1 : 1;
    });
    const o = ctx.flags.output as string;
    if (o === 'name') {
      for (const r of rs) ctx.out(`${r.group ? `${r.resource}.${r.group}` : r.resource}\n`);
      return 0;
    }
    if (o !== '' && o !== 'wide') throw new CommandError(`--output ${o} is not available`);
    const wide = o === 'wide';
    const rows = rs.map((r) => {
      const cells = [r.resource, r.shortNames.join(','), apiVersionOfResource(r), String(r.namespaced), r.kind];
      if (wide) cells.push(r.verbs.join(','), r.categories.join(','));
      return cells;
    });
    const header = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(wide ? ['VERBS', 'CATEGORIES'] : [])];
    ctx.out(alignRows(ctx.flags['no-headers'] ? rows : [header, ...rows]));
    return 0;
  },
};

export const apiVersionsCommand: Command = {
  name: 'api-versions',
  short: 'Print the supported API versions on the server, in the form of "group/version"',
  group: 'Other Commands:',
  async run(ctx) {
    const mapper = await ctx.f.mapper();
    const versions = new Set<string>();
    for (const g of mapper.discovery.groups) for (const v of g.versions) versions.add(g.name ? `${g.name}/${v}` : v);
    for (const v of [...versions].sort()) ctx.out(`${v}\n`);
    return 0;
  },
};

export const versionCommand: Command = {
  name: 'version',
  short: 'Print the client and server version information',
  group: 'Other Commands:',
  flags: { client: f('bool', false, 'If true, shows client version only (no server required).'), output: f('string', '', "One of 'yaml' or 'json'.", { short: 'o' }) },
  async run(ctx) {
    const out: Record<string, unknown> = { clientVersion };
    let serverErr: unknown;
    if (!ctx.flags.client) {
      try {
        out.serverVersion = await ctx.f.client().request({ path: '/version' });
      } catch (err) {
        serverErr = err;
      }
    }
    const o = ctx.flags.output as string;
    if (o === 'json' || o === 'yaml') ctx.out(formatObjects({ kind: o }, [out], true));
    else if (o !== '') throw new CommandError(`--output must be 'yaml' or 'json'`);
    else {
      ctx.out(`Client Version: ${clientVersion.gitVersion}\n`);
      const sv = out.serverVersion as { gitVersion?: string } | undefined;
      if (sv) ctx.out(`Server Version: ${sv.gitVersion}\n`);
    }
    if (serverErr) throw serverErr;
    return 0;
  },
};

export const clusterInfoCommand: Command = {
  name: 'cluster-info',
  short: 'Display cluster information',
  long: `Display addresses of the control plane and services with label kubernetes.io/cluster-service=true.`,
  group: 'Cluster Management Commands:',
  async run(ctx) {
    const client = ctx.f.client();
    const server = ctx.f.config().server;
    // One request first, so that an unreachable server fails as every other command does.
    await client.request({ path: '/version' });
    const colour = ctx.io.stdoutIsTTY;
    const green = (s: string) => (colour ? `\u001b[0;32m${s}\u001b[0m` : s);
    const yellow = (s: string) => (colour ? `\u001b[0;33m${s}\u001b[0m` : s);
    ctx.out(`${green('Kubernetes control plane')} is running at ${yellow(server)}\n`);
    try {
      const svcs = await client.request<{ items?: { metadata: { name: string; labels?: Record<string, string> } }[] }>({
        path: resourcePath({ group: '', version: 'v1', resource: 'services', namespaced: true }, 'kube-system'),
        query: { labelSelector: 'kubernetes.io/cluster-service=true' },
      });
      for (const s of svcs.items ?? []) {
        const name = s.metadata.labels?.['kubernetes.io/name'] ?? s.metadata.name;
        ctx.out(`${green(name)} is running at ${yellow(`${server}/api/v1/namespaces/kube-system/services/${s.metadata.name}/proxy`)}\n`);
      }
    } catch {
      /* no add-on services to show */
    }
    ctx.out(`\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n`);
    return 0;
  },
};

function notYet(name: string, short: string, what: string): Command {
  return {
    name,
    short,
    group: 'Troubleshooting and Debugging Commands:',
    usage: name === 'port-forward' ? 'TYPE/NAME [options] [LOCAL_PORT:]REMOTE_PORT [...[LOCAL_PORT_N:]REMOTE_PORT_N]' : '(POD | TYPE/NAME) [-c CONTAINER] [flags] -- COMMAND [args...]',
    flags: {
      container: f('string', '', 'Container name.', { short: 'c' }),
      stdin: f('bool', false, 'Pass stdin to the container', { short: 'i' }),
      tty: f('bool', false, 'Stdin is a TTY', { short: 't' }),
      address: f('stringSlice', ['localhost'], 'Addresses to listen on (port-forward).'),
    },
    async run() {
      throw new CommandError(`${name} is not supported by tkubectl yet: it needs ${what}. Use the real kubectl for now.`);
    },
  };
}

export const execCommand = notYet('exec', 'Execute a command in a container', "the kubelet's exec stream (WebSocket v5.channel.k8s.io)");
export const attachCommand = notYet('attach', 'Attach to a running container', "the kubelet's attach stream");
export const portForwardCommand = notYet('port-forward', 'Forward one or more local ports to a pod', "the kubelet's port-forward stream");
