/**
 * The EndpointSlices that mirror one Endpoints object, without I/O.
 *
 * A Service without a selector gets no endpoints from the controllers: its owner writes an
 * Endpoints object of the same name by hand. kube-proxy and cluster DNS read EndpointSlices
 * only, so the mirroring controller copies such Endpoints into slices, as upstream does:
 *
 *   - one slice per address type (IPv4, IPv6) and set of ports, named `<endpoints>-<random>`,
 *     labelled `kubernetes.io/service-name: <endpoints>` and `endpointslice.kubernetes.io/
 *     managed-by: endpointslicemirroring-controller.k8s.io`, owned (controller) by the Endpoints;
 *   - the Endpoints' labels and annotations are copied (but for the endpoints controller's
 *     last-change-trigger-time and kubectl's last-applied-configuration);
 *   - `addresses` become endpoints with ready: true, `notReadyAddresses` with ready: false,
 *     with hostname, nodeName and targetRef copied; an address that is not an IP is skipped;
 *   - at most `maxPerSubset` (--mirroring-max-endpoints-per-subset, 1000) addresses of each
 *     subset are mirrored, ready ones first.
 */
import { isIP } from 'node:net';
import type { EndpointSlice, Endpoints } from '../../api/index.js';
import { jsonEqual } from '../../machinery/index.js';
import { leaderElectionAnnotation } from '../endpoints/index.js';
import { managedByLabel, portsKey, serviceNameLabel, type SliceEndpoint, type SlicePort } from '../endpointslice/reconcile.js';

export const mirroringControllerName = 'endpointslicemirroring-controller.k8s.io';
/** Endpoints labelled with this set to "true" are not mirrored. */
export const skipMirrorLabel = 'endpointslice.kubernetes.io/skip-mirror';
const notCopiedAnnotations = new Set(['endpoints.kubernetes.io/last-change-trigger-time', 'kubectl.kubernetes.io/last-applied-configuration']);

type AddressType = 'IPv4' | 'IPv6';

export interface MirrorGroup {
  addressType: AddressType;
  ports: SlicePort[];
  endpoints: SliceEndpoint[];
}

export interface MirrorResult {
  /** The wanted slices' contents, keyed by address type and port set. */
  groups: Map<string, MirrorGroup>;
  /** Addresses that are not IPs. */
  invalid: number;
  /** Addresses beyond `maxPerSubset` in their subset (invalid ones not counted). */
  overCapacity: number;
}

/** Whether an Endpoints object may be mirrored at all (its Service is checked separately). */
export function shouldMirror(ep: Endpoints | undefined): boolean {
  if (!ep) return false;
  return ep.metadata.labels?.[skipMirrorLabel] !== 'true' && ep.metadata.annotations?.[leaderElectionAnnotation] === undefined /* old-style leader election records */;
}

/** An IP in its canonical text form (upstream re-formats what it parses), or undefined. */
export function canonicalIP(s: string): { ip: string; type: AddressType } | undefined {
  // Leading zeros are accepted in IPv4 (upstream parses "sloppily") and dropped.
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((n) => n <= 255) ? { ip: parts.join('.'), type: 'IPv4' } : undefined;
  }
  if (isIP(s) !== 6) return undefined;
  // The URL parser writes an IPv6 address in its canonical (compressed, lower-case) form.
  const ip = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d, written ::ffff:hhhh:hhhh) is IPv4 to upstream.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
  if (mapped) {
    const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
    return { ip: [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.'), type: 'IPv4' };
  }
  return { ip, type: 'IPv6' };
}

function groupKey(type: AddressType, ports: SlicePort[] | undefined): string {
  return `${type}/${portsKey(ports)}`;
}

/** What the slices of `ep` should hold. */
export function mirrorEndpoints(ep: Endpoints, maxPerSubset: number): MirrorResult {
  const groups = new Map<string, MirrorGroup>();
  const seen = new Map<string, Set<string>>();
  let invalid = 0;
  let overCapacity = 0;
  for (const subset of ep.subsets ?? []) {
    const ports: SlicePort[] = (subset.ports ?? []).map((p) => {
      const out: SlicePort = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
      if (p.appProtocol !== undefined) out.appProtocol = p.appProtocol;
      return out;
    });
    let added = 0;
    const addresses = [...(subset.addresses ?? []).map((a) => ({ a, ready: true })), ...(subset.notReadyAddresses ?? []).map((a) => ({ a, ready: false }))];
    for (const { a, ready } of addresses) {
      if (added >= maxPerSubset) {
        overCapacity++;
        continue;
      }
      const parsed = canonicalIP(a.ip);
      if (!parsed) {
        invalid++;
        continue;
      }
      added++;
      const k = groupKey(parsed.type, ports);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { addressType: parsed.type, ports, endpoints: [] }));
      let ips = seen.get(k);
      if (!ips) seen.set(k, (ips = new Set()));
      // The same address twice under one port set is one endpoint (the first one given).
      if (ips.has(parsed.ip)) continue;
      ips.add(parsed.ip);
      const e: SliceEndpoint = { addresses: [parsed.ip], conditions: { ready } };
      if (a.hostname) e.hostname = a.hostname;
      if (a.nodeName) e.nodeName = a.nodeName;
      if (a.targetRef) e.targetRef = a.targetRef;
      g.endpoints.push(e);
    }
  }
  return { groups, invalid, overCapacity };
}

/** The metadata every mirrored slice of `ep` carries (name aside). */
export function mirroredMeta(ep: Endpoints): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = { ...(ep.metadata.labels ?? {}), [serviceNameLabel]: ep.metadata.name!, [managedByLabel]: mirroringControllerName };
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(ep.metadata.annotations ?? {})) if (!notCopiedAnnotations.has(k)) annotations[k] = v;
  return { labels, annotations };
}

function newMirroredSlice(ep: Endpoints, g: MirrorGroup, name?: string): EndpointSlice {
  const { labels, annotations } = mirroredMeta(ep);
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      ...(name ? { name } : { generateName: `${ep.metadata.name}-` }),
      namespace: ep.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name: ep.metadata.name!, uid: ep.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    addressType: g.addressType,
    endpoints: g.endpoints,
    ports: g.ports,
  };
}

export interface MirrorPlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

function sameOwner(s: EndpointSlice, ep: Endpoints): boolean {
  const refs = s.metadata.ownerReferences ?? [];
  return refs.length === 0 || refs.some((r) => r.uid === ep.metadata.uid);
}

/**
 * Creates, updates and deletes that turn `existing` (the slices this controller made for the
 * Endpoints) into one slice per group. A group keeps its first slice (updated in place when
 * it differs); extra slices go; a slice that would be deleted while another is created is
 * reused under its name instead (upstream's recycling).
 */
export function planMirroredSlices(ep: Endpoints, groups: Map<string, MirrorGroup>, existing: EndpointSlice[]): MirrorPlan {
  const plan: MirrorPlan = { create: [], update: [], delete: [] };
  const { labels, annotations } = mirroredMeta(ep);
  const byKey = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    if (!sameOwner(s, ep) || (s.addressType !== 'IPv4' && s.addressType !== 'IPv6')) {
      plan.delete.push(s);
      continue;
    }
    const k = groupKey(s.addressType, s.ports);
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push(s);
  }
  const toCreate: MirrorGroup[] = [];
  for (const [k, g] of groups) {
    const slices = byKey.get(k) ?? [];
    byKey.delete(k);
    const [first, ...extra] = slices;
    plan.delete.push(...extra);
    if (!first) {
      toCreate.push(g);
      continue;
    }
    const same =
      jsonEqual(first.endpoints ?? [], g.endpoints) &&
      jsonEqual(first.ports ?? [], g.ports) &&
      jsonEqual(first.metadata.labels ?? {}, labels) &&
      jsonEqual(first.metadata.annotations ?? {}, annotations);
    if (same) continue;
    const next = structuredClone(first);
    next.metadata.labels = labels;
    if (Object.keys(annotations).length) next.metadata.annotations = annotations;
    else delete next.metadata.annotations;
    next.endpoints = g.endpoints;
    next.ports = g.ports;
    plan.update.push(next);
  }
  for (const slices of byKey.values()) plan.delete.push(...slices);
  for (const g of toCreate) {
    // Reuse a slice on its way out (same address type: addressType is immutable).
    const i = plan.delete.findIndex((s) => s.addressType === g.addressType && sameOwner(s, ep));
    if (i >= 0) {
      const [old] = plan.delete.splice(i, 1);
      const next = newMirroredSlice(ep, g, old!.metadata.name);
      next.metadata.resourceVersion = old!.metadata.resourceVersion;
      next.metadata.uid = old!.metadata.uid;
      plan.update.push(next);
    } else {
      plan.create.push(newMirroredSlice(ep, g));
    }
  }
  return plan;
}
