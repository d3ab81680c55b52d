/**
 * Resource discovery for the controllers that act on every resource: what the API server
 * serves (custom resources included), read from /api and /apis in the legacy shapes, the
 * preferred version of each group. Answers are cached briefly, so that many callers in a burst
 * (the namespace controller deleting many namespaces) cost one round of requests.
 */
import { builtinResources } from '../../api/index.js';
import { realClock, type Clock } from '../../base/index.js';
import type { RESTClient } from '../../client/index.js';
import type { DiscoveredResource, ResourceDiscovery } from '../types.js';

interface APIResource {
  name: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  group?: string;
  version?: string;
}

interface APIResourceList {
  groupVersion: string;
  resources: APIResource[];
}

interface APIGroupList {
  groups: { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion?: { groupVersion: string; version: string } }[];
}

type Answer = Awaited<ReturnType<ResourceDiscovery['resources']>>;

/** Discovery through the API server. */
export class APIDiscovery implements ResourceDiscovery {
  private cached?: { at: number; answer: Promise<Answer> };
  private readonly clock: Clock;

  constructor(
    private readonly client: Pick<RESTClient, 'request'>,
    private readonly o: { cacheMs?: number; clock?: Clock } = {},
  ) {
    this.clock = o.clock ?? realClock;
  }

  resources(signal?: AbortSignal): Promise<Answer> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < (this.o.cacheMs ?? 5000)) return this.cached.answer;
    const answer = this.fetch(signal);
    this.cached = { at: now, answer };
    // A failed round is not remembered.
    answer.catch(() => {
      if (this.cached?.answer === answer) this.cached = undefined;
    });
    return answer;
  }

  private async fetch(signal?: AbortSignal): Promise<Answer> {
    const out: DiscoveredResource[] = [];
    const failedGroups: Record<string, string> = {};
    const read = async (path: string, group: string, version: string) => {
      try {
        const list = await this.client.request<APIResourceList>({ path, signal });
        for (const r of list.resources ?? []) {
          if (r.name.includes('/')) continue; // subresources
          out.push({ group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced, verbs: r.verbs ?? [] });
        }
      } catch (err) {
        failedGroups[group ? `${group}/${version}` : version] = (err as Error).message;
      }
    };
    const groups = await this.client.request<APIGroupList>({ path: '/apis', signal });
    await Promise.all([
      read('/api/v1', '', 'v1'),
      ...(groups.groups ?? []).map((g) => {
        const pv = g.preferredVersion ?? g.versions[0];
        return pv ? read(`/apis/${pv.groupVersion}`, g.name, pv.version) : Promise.resolve();
      }),
    ]);
    out.sort((a, b) => a.group.localeCompare(b.group) || a.resource.localeCompare(b.resource));
    return { resources: out, failedGroups };
  }
}

/** The built-in resources only, for tests and for clients that cannot reach discovery. */
export function builtinDiscovery(): ResourceDiscovery {
  const preferred = new Map<string, string>();
  for (const r of builtinResources) if (!preferred.has(r.group)) preferred.set(r.group, r.version);
  const resources: DiscoveredResource[] = builtinResources
    .filter((r) => preferred.get(r.group) === r.version)
    .map((r) => ({ group: r.group, version: r.version, resource: r.resource, kind: r.kind, namespaced: r.namespaced, verbs: [...r.verbs] }));
  return { resources: async () => ({ resources, failedGroups: {} }) };
}

/** A fixed answer, for tests (extra resources stand for custom resources). */
export function staticDiscovery(resources: DiscoveredResource[], failedGroups: Record<string, string> = {}): ResourceDiscovery {
  return { resources: async () => ({ resources, failedGroups }) };
}
