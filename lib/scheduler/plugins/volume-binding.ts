/**
 * VolumeBinding: the pod's PersistentVolumeClaims must exist; claims already bound must be
 * bound to existing volumes whose node affinity (local volumes, zonal disks) matches the node.
 *
 * Claims of a WaitForFirstConsumer StorageClass are bound here, as upstream's scheduler does
 * (there are no provisioners in tkube: only volumes made by hand are bound):
 *
 *   Filter     each unbound claim needs its own Available volume matching it and usable from
 *              the node ("node(s) didn't find available persistent volumes to bind");
 *   Reserve    the volumes chosen for the node are set aside, so that the next cycle does not
 *              hand them to another pod before the API shows them taken;
 *   PreBind    each volume's spec.claimRef is set to its claim; the PersistentVolume
 *              controller completes the binding, and the pod is bound once its claims are
 *              Bound (or fails after --bind-timeout, 600 s, and is tried again).
 */
import { ephemeralClaimMismatch, ephemeralClaimName, type PersistentVolume, type PersistentVolumeClaim } from '../../api/index.js';
import { Resources } from '../../client/index.js';
import { annBoundByController, claimRefFor, findMatchingVolume, waitsForFirstConsumer } from '../../controllers/volume/binding.js';
import { skipStatus, unresolvable, unschedulable, type ClusterEvent, type CycleState, type FilterPlugin, type PluginHandle, type PreBindPlugin, type PreFilterPlugin, type ReservePlugin, type StateData, type Status } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import { nodeSelectorTermsMatch, type NodeSelectorTerm } from '../node-selector.js';
import { podClaimNames, type PodInfo } from '../pod-info.js';

export const errReasonBindConflict = "node(s) didn't find available persistent volumes to bind";
export const errReasonNodeConflict = 'node(s) had volume node affinity conflict';
export const errReasonPVNotExist = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)';
export const errReasonUnboundImmediate = 'pod has unbound immediate PersistentVolumeClaims';

class PreFilterState implements StateData {
  /** Volumes chosen for the delayed claims, per node that passed Filter. */
  readonly chosen = new Map<string, { claim: PersistentVolumeClaim; volume: PersistentVolume }[]>();
  constructor(
    readonly volumes: PersistentVolume[],
    readonly missingPV: boolean,
    readonly delayed: PersistentVolumeClaim[],
  ) {}
  clone(): StateData {
    return this;
  }
}

const preFilterKey = 'PreFilterVolumeBinding';

function nodeMatches(pv: PersistentVolume, node: NonNullable<NodeInfo['node']>): boolean {
  const required = pv.spec?.nodeAffinity?.required;
  return !required || nodeSelectorTermsMatch(required.nodeSelectorTerms as NodeSelectorTerm[], node);
}

export interface VolumeBindingOptions {
  /** --bind-timeout: how long PreBind waits for the claims to be Bound (default 600 s). */
  bindTimeoutMs?: number;
  /** How often PreBind looks at the claims (default 200 ms). */
  pollMs?: number;
}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin {
  static readonly pluginName = 'VolumeBinding';
  readonly name = VolumeBinding.pluginName;
  readonly events: readonly ClusterEvent[] = ['PVCChange', 'PVChange', 'StorageClassChange', 'NodeAdd', 'NodeLabelChange'];
  /** Volumes reserved for pods (volume name → pod key) that the API does not show taken yet. */
  private readonly assumed = new Map<string, string>();

  constructor(
    private readonly h: PluginHandle,
    private readonly o: VolumeBindingOptions = {},
  ) {}

  preFilter(state: CycleState, pod: PodInfo): Status | undefined {
    const claims = podClaimNames(pod.pod);
    if (claims.length === 0) return skipStatus(this.name);
    const ns = pod.pod.metadata.namespace ?? '';
    const volumes: PersistentVolume[] = [];
    const delayed: PersistentVolumeClaim[] = [];
    let missingPV = false;
    for (const name of claims) {
      const pvc = this.h.listers.persistentVolumeClaims?.namespace(ns).get(name);
      const ephemeral = (pod.pod.spec?.volumes ?? []).some((v) => v.ephemeral && ephemeralClaimName(pod.pod, v.name) === name);
      if (!pvc && ephemeral) return unresolvable(this.name, `waiting for ephemeral volume controller to create the persistentvolumeclaim "${name}"`);
      if (!pvc) return unresolvable(this.name, `persistentvolumeclaim "${name}" not found`);
      const notOwned = ephemeral && ephemeralClaimMismatch(pod.pod, pvc);
      if (notOwned) return unresolvable(this.name, notOwned);
      if (pvc.metadata.deletionTimestamp) return unresolvable(this.name, `persistentvolumeclaim "${name}" is being deleted`);
      const pvName = pvc.spec?.volumeName;
      if (!pvName) {
        const className = pvc.spec?.storageClassName;
        const sc = className ? this.h.listers.storageClasses?.get(className) : undefined;
        if (waitsForFirstConsumer(sc)) {
          delayed.push(pvc);
          continue;
        }
        return unresolvable(this.name, errReasonUnboundImmediate);
      }
      const pv = this.h.listers.persistentVolumes?.get(pvName);
      if (!pv) missingPV = true;
      else volumes.push(pv);
    }
    state.write(preFilterKey, new PreFilterState(volumes, missingPV, delayed));
    return undefined;
  }

  filter(state: CycleState, _pod: PodInfo, nodeInfo: NodeInfo): Status | undefined {
    const s = state.read<PreFilterState>(preFilterKey);
    const node = nodeInfo.node;
    if (!s || !node) return undefined;
    if (s.missingPV) return unresolvable(this.name, errReasonPVNotExist);
    for (const pv of s.volumes) if (!nodeMatches(pv, node)) return unresolvable(this.name, errReasonNodeConflict);
    if (s.delayed.length === 0) return undefined;
    this.pruneAssumed();
    const taken = new Set(this.assumed.keys());
    const all = this.h.listers.persistentVolumes?.list() ?? [];
    const picks: { claim: PersistentVolumeClaim; volume: PersistentVolume }[] = [];
    for (const claim of s.delayed) {
      const volume = findMatchingVolume(claim, all, { delayBinding: true, nodeMatches: (pv) => nodeMatches(pv, node), exclude: taken });
      if (!volume) return unresolvable(this.name, errReasonBindConflict);
      taken.add(volume.metadata.name!);
      picks.push({ claim, volume });
    }
    s.chosen.set(node.metadata.name!, picks);
    return undefined;
  }

  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status | undefined {
    const picks = state.read<PreFilterState>(preFilterKey)?.chosen.get(nodeName) ?? [];
    for (const { volume } of picks) {
      const holder = this.assumed.get(volume.metadata.name!);
      if (holder && holder !== pod.key) return unschedulable(this.name, errReasonBindConflict);
    }
    for (const { volume } of picks) this.assumed.set(volume.metadata.name!, pod.key);
    return undefined;
  }

  unreserve(_state: CycleState, pod: PodInfo): void {
    for (const [name, holder] of this.assumed) if (holder === pod.key) this.assumed.delete(name);
  }

  async preBind(state: CycleState, pod: PodInfo, nodeName: string, signal?: AbortSignal): Promise<Status | undefined> {
    const picks = state.read<PreFilterState>(preFilterKey)?.chosen.get(nodeName) ?? [];
    if (picks.length === 0) return undefined;
    const client = this.h.client;
    if (!client) return unschedulable(this.name, 'binding volumes: the scheduler has no API client');
    for (const { claim, volume } of picks) {
      const next = structuredClone(volume);
      next.spec = { ...next.spec, claimRef: claimRefFor(claim) };
      next.metadata.annotations = { ...next.metadata.annotations, [annBoundByController]: 'yes' };
      try {
        await client.resource(Resources.persistentVolumes).update(next, { signal });
      } catch (err) {
        return unschedulable(this.name, `binding volumes: ${(err as Error).message}`);
      }
    }
    // The PersistentVolume controller finishes each binding; the pod waits for it.
    const deadline = Date.now() + (this.o.bindTimeoutMs ?? 600_000);
    const claims = this.h.listers.persistentVolumeClaims;
    for (;;) {
      const pending = picks.filter(({ claim }) => claims?.namespace(claim.metadata.namespace!).get(claim.metadata.name!)?.status?.phase !== 'Bound');
      if (pending.length === 0) return undefined;
      if (signal?.aborted) return unschedulable(this.name, 'binding volumes: aborted');
      if (Date.now() > deadline) return unschedulable(this.name, `binding volumes: timed out waiting for the condition (claims ${pending.map((p) => p.claim.metadata.name).join(', ')} not bound)`);
      await new Promise((r) => setTimeout(r, this.o.pollMs ?? 200));
    }
  }

  /** Forgets reservations the API now shows (the volume has a claimRef), or whose volume is gone. */
  private pruneAssumed(): void {
    for (const name of this.assumed.keys()) {
      const pv = this.h.listers.persistentVolumes?.get(name);
      if (!pv || pv.spec?.claimRef?.uid) this.assumed.delete(name);
    }
  }
}
