/**
 * What the API server serves, and how kubectl names it. Discovery is read once per command
 * (aggregated apidiscovery.k8s.io/v2 documents for /api and /apis, the legacy shapes when a
 * server has no aggregated form); the mapper then turns what a user types (`po`, `pods`, `pod`,
 * `Pod`, `deployments.apps`, `deploy.v1.apps`, `all`) into resources, as kubectl's RESTMapper
 * and its short-name expander do. Ambiguous names resolve to the first match in discovery
 * order (the core group first, preferred versions first), which is kubectl's priority too.
 */
import type { RESTClient } from '../client/index.js';
import { defineResourceDescriptor, type ResourceDescriptor } from '../client/index.js';
import { CommandError } from './cli/errors.js';

export interface APIResource {
  group: string;
  version: string;
  /** Plural, as in URLs. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  /** Subresource names (`status`, `scale`, `log`...). */
  subresources: string[];
  /** True for the preferred version of its group. */
  preferred: boolean;
}

export interface APIGroupInfo {
  name: string;
  /** Versions, preferred first. */
  versions: string[];
}

export interface Discovery {
  groups: APIGroupInfo[];
  /** Every resource of every version, core group first, preferred versions first. */
  resources: APIResource[];
}

const aggregatedAccept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

interface AggregatedList {
  kind?: string;
  items?: {
    metadata?: { name?: string };
    versions?: {
      version: string;
      resources?: {
        resource: string;
        responseKind?: { kind?: string };
        scope?: string;
        singularResource?: string;
        verbs?: string[];
        shortNames?: string[];
        categories?: string[];
        subresources?: { subresource: string }[];
      }[];
    }[];
  }[];
}

interface LegacyResourceList {
  resources?: { name: string; singularName?: string; namespaced: boolean; kind: string; verbs?: string[]; shortNames?: string[]; categories?: string[] }[];
}

/** Reads discovery from the server. */
export async function discover(client: RESTClient): Promise<Discovery> {
  const [core, named] = await Promise.all([
    client.request<AggregatedList & { versions?: string[] }>({ path: '/api', accept: aggregatedAccept }),
    client.request<AggregatedList & { groups?: { name: string; versions: { version: string }[]; preferredVersion?: { version: string } }[] }>({ path: '/apis', accept: aggregatedAccept }),
  ]);
  const out: Discovery = { groups: [], resources: [] };
  const addAggregated = (list: AggregatedList) => {
    for (const g of list.items ?? []) {
      const name = g.metadata?.name ?? '';
      const versions = (g.versions ?? []).map((v) => v.version);
      out.groups.push({ name, versions });
      (g.versions ?? []).forEach((v, i) => {
        for (const r of v.resources ?? []) {
          out.resources.push({
            group: name,
            version: v.version,
            resource: r.resource,
            singular: r.singularResource || (r.responseKind?.kind ?? '').toLowerCase(),
            kind: r.responseKind?.kind ?? '',
            namespaced: r.scope === 'Namespaced',
            verbs: r.verbs ?? [],
            shortNames: r.shortNames ?? [],
            categories: r.categories ?? [],
            subresources: (r.subresources ?? []).map((s) => s.subresource),
            preferred: i === 0,
          });
        }
      });
    }
  };
  const addLegacy = async (group: string, versions: string[]) => {
    out.groups.push({ name: group, versions });
    for (const [i, v] of versions.entries()) {
      const path = group ? `/apis/${group}/${v}` : `/api/${v}`;
      const list = await client.request<LegacyResourceList>({ path });
      const subs = new Map<string, string[]>();
      for (const r of list.resources ?? []) {
        const [base, sub] = r.name.split('/');
        if (sub) subs.set(base!, [...(subs.get(base!) ?? []), sub]);
      }
      for (const r of list.resources ?? []) {
        if (r.name.includes('/')) continue;
        out.resources.push({
          group,
          version: v,
          resource: r.name,
          singular: r.singularName || r.kind.toLowerCase(),
          kind: r.kind,
          namespaced: r.namespaced,
          verbs: r.verbs ?? [],
          shortNames: r.shortNames ?? [],
          categories: r.categories ?? [],
          subresources: subs.get(r.name) ?? [],
          preferred: i === 0,
        });
      }
    }
  };
  if (core.kind === 'APIGroupDiscoveryList') addAggregated(core);
  else await addLegacy('', core.versions ?? ['v1']);
  if (named.kind === 'APIGroupDiscoveryList') addAggregated(named);
  else for (const g of named.groups ?? []) {
    const pref = g.preferredVersion?.version;
    const vs = g.versions.map((v) => v.version);
    await addLegacy(g.name, pref ? [pref, ...vs.filter((v) => v !== pref)] : vs);
  }
  return out;
}

/** `apps/v1`, or `v1` for the core group. */
export function apiVersionOfResource(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** `deployments.apps`, `pods`. */
export function groupResource(r: { group: string; resource: string }): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

/** `deployment.apps`, `pod`: how kubectl prefixes names (`deployment.apps/web`). */
export function kindPrefix(r: { group: string; kind: string }): string {
  return r.group ? `${r.kind.toLowerCase()}.${r.group}` : r.kind.toLowerCase();
}

export function descriptorOf(r: APIResource): ResourceDescriptor {
  return defineResourceDescriptor({ group: r.group, version: r.version, resource: r.resource, kind: r.kind, namespaced: r.namespaced });
}

/** Turns what users type into resources. */
export class RESTMapper {
  constructor(readonly discovery: Discovery) {}

  /** Preferred-version resources (each group/resource once). */
  preferred(): APIResource[] {
    return this.discovery.resources.filter((r) => r.preferred);
  }

  /**
   * Resolves a resource name: plural, singular, short name or kind, case-insensitive, with an
   * optional `.group` or `.version.group` suffix. Undefined when nothing matches.
   */
  find(input: string): APIResource | undefined {
    const name = input.toLowerCase();
    const all = this.discovery.resources;
    const matches = (r: APIResource, n: string) => r.resource === n || r.singular === n || r.shortNames.includes(n) || r.kind.toLowerCase() === n;
    // Plain name: preferred versions first.
    const plain = this.preferred().find((r) => matches(r, name)) ?? all.find((r) => matches(r, name));
    if (plain) return plain;
    // As upstream's ParseResourceArg: `resource.version.group` when there are two dots or more,
    // else `resource.group`.
    const dots = name.split('.').length - 1;
    if (dots >= 2) {
      const [res, version, ...g] = name.split('.');
      const group = g.join('.');
      const hit = all.find((r) => matches(r, res!) && r.version === version && r.group === group);
      if (hit) return hit;
    }
    const i = name.indexOf('.');
    if (i > 0) {
      const res = name.slice(0, i);
      const group = name.slice(i + 1);
      return this.preferred().find((r) => matches(r, res) && r.group === group) ?? all.find((r) => matches(r, res) && r.group === group);
    }
    return undefined;
  }

  /** Like find, failing with kubectl's message. */
  resolve(input: string): APIResource {
    const r = this.find(input);
    if (!r) throw new CommandError(`the server doesn't have a resource type "${input}"`);
    return r;
  }

  /** A category (`all`) expanded to its resources, in discovery order; undefined if no resource has it. */
  category(name: string): APIResource[] | undefined {
    const rs = this.preferred().filter((r) => r.categories.includes(name.toLowerCase()));
    return rs.length ? rs : undefined;
  }

  /** Resolves by apiVersion and kind (objects from files). */
  forKind(apiVersion: string, kind: string): APIResource | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return this.discovery.resources.find((r) => r.group === group && r.version === version && r.kind === kind);
  }
}
