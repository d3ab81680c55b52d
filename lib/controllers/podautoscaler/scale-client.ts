/**
 * The scale subresource of whatever an autoscaler targets (upstream's RESTMapper + scale
 * client): scaleTargetRef's kind and group name a resource, found in lib/api's built-in table
 * or, for custom resources, through discovery; its /scale is read and written as an
 * autoscaling/v1 Scale.
 */
import { builtinResources, type Scale } from '../../api/index.js';
import { defineResourceDescriptor, type KubeClient, type ResourceDescriptor } from '../../client/index.js';
import type { ResourceDiscovery } from '../types.js';
import type { CrossVersionObjectReference } from './metrics-source.js';

/**
 * Reads and writes scale subresources. `get` rejects with the reason the target's scale cannot
 * be read (unknown kind, not found, no scale subresource); `update` is conditional on the
 * Scale's resourceVersion (409 Conflict when the target changed since it was read).
 */
export interface ScaleClient {
  get(namespace: string, ref: CrossVersionObjectReference, signal?: AbortSignal): Promise<{ scale: Scale; resource: ResourceDescriptor }>;
  update(namespace: string, resource: ResourceDescriptor, scale: Scale, signal?: AbortSignal): Promise<Scale>;
}

/** `apps/v1` → apps, v1; `v1` → the core group (upstream schema.ParseGroupVersion). */
export function parseGroupVersion(apiVersion: string | undefined): { group: string; version: string } {
  if (!apiVersion) return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: parts[0]! };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]! };
  throw new Error(`unexpected GroupVersion string: ${apiVersion}`);
}

export class APIScaleClient implements ScaleClient {
  constructor(
    private readonly client: KubeClient,
    private readonly discovery?: ResourceDiscovery,
  ) {}

  /** The resources `ref` may name, the version it asks for first (upstream RESTMappings). */
  async resourcesFor(ref: CrossVersionObjectReference, signal?: AbortSignal): Promise<ResourceDescriptor[]> {
    const { group, version } = parseGroupVersion(ref.apiVersion);
    const byVersion = (a: { version: string }, b: { version: string }) => Number(b.version === version) - Number(a.version === version);
    const builtin = builtinResources.filter((r) => r.group === group && r.kind === ref.kind).sort(byVersion);
    const found = builtin.length > 0 ? builtin : await this.discovered(group, ref.kind, signal);
    if (found.length === 0) throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
    const seen = new Set<string>();
    const out: ResourceDescriptor[] = [];
    for (const r of found.sort(byVersion)) {
      const key = `${r.version}/${r.resource}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(defineResourceDescriptor({ group: r.group, version: r.version, resource: r.resource, kind: r.kind, namespaced: r.namespaced }));
    }
    return out;
  }

  private async discovered(group: string, kind: string, signal?: AbortSignal) {
    if (!this.discovery) return [];
    const { resources } = await this.discovery.resources(signal);
    return resources.filter((r) => r.group === group && r.kind === kind);
  }

  async get(namespace: string, ref: CrossVersionObjectReference, signal?: AbortSignal): Promise<{ scale: Scale; resource: ResourceDescriptor }> {
    const resources = await this.resourcesFor(ref, signal);
    // Each mapping in turn until one answers; the first error otherwise.
    let first: unknown;
    for (const resource of resources) {
      try {
        const scale = await this.client.resource(resource, namespace).getSubresource<Scale>(ref.name, 'scale', { signal });
        return { scale, resource };
      } catch (err) {
        first ??= err;
      }
    }
    throw first;
  }

  update(namespace: string, resource: ResourceDescriptor, scale: Scale, signal?: AbortSignal): Promise<Scale> {
    return this.client.resource(resource, namespace).updateSubresource<Scale>(scale.metadata.name!, 'scale', { apiVersion: 'autoscaling/v1', kind: 'Scale', ...scale }, { signal });
  }
}
