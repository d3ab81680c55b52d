/**
 * PodNetwork: the node's pod network as the kubelet uses it. One instance per node.
 *
 *   ensureNode()        once at start and then now and then: bridge, forwarding, iptables
 *   setUpPod()          after the sandbox (pause container) started: IP + veth + eth0 (+ host ports)
 *   tearDownPod()       before or after the sandbox is removed: veth gone, host ports gone, IP released
 *   garbageCollect()    release IPs of pods that no longer exist (after a crash, say)
 *   syncRoutes()        when nodes come, go or change address: routes to their pod ranges
 *
 * Pods with hostNetwork never come here: they use the node's namespace as it is.
 */
import path from 'node:path';
import type { Logger } from '../../base/index.js';
import { deleteBridge, ensureBridge } from './bridge.js';
import type { CommandRunner } from './command-runner.js';
import { HostPortManager, type HostPortMapping } from './hostports.js';
import { HostLocalIPAM, type Allocation } from './ipam.js';
import { ensurePodNetworkRules, removePodNetworkRules } from './iptables.js';
import { cidrContains, gatewayAddress, parseCIDR, type IPv4CIDR } from './ipv4.js';
import { syncPodRoutes, type RemoteNode, type RouteSyncResult } from './routes.js';
import { attachPodInterface, detachPodInterface, type PodInterface } from './veth.js';

export interface PodNetworkOptions {
  /** Runs ip/iptables/sysctl in the node's network namespace. */
  runner: CommandRunner;
  log: Logger;
  /** This node's pod range (Node.spec.podCIDR), e.g. 10.244.1.0/24. */
  podCIDR: string;
  /**
   * The whole cluster's pod range (kube-controller-manager's --cluster-cidr), e.g.
   * 10.244.0.0/16: forwarded freely and not masqueraded. Unset: no iptables rules.
   */
  clusterCIDR?: string;
  /** Bridge name; default cbr0. */
  bridgeName?: string;
  /** Where IP allocations are kept; default /var/lib/tkube/kubelet/networks/<bridge>. */
  ipamDir?: string;
  /** MTU of the bridge and the veth pairs; default: the kernel's (1500). */
  mtu?: number;
  /** Hairpin mode on bridge ports (default true), so that a pod can reach itself through a Service. */
  hairpinMode?: boolean;
  /**
   * Set net.bridge.bridge-nf-call-iptables=1 so that bridged pod-to-pod traffic passes
   * iptables (kube-proxy's Service rules need it). Best effort: a kernel without
   * br_netfilter logs a warning. Default true.
   */
  bridgeNetfilter?: boolean;
}

export interface PodRef {
  uid: string;
  namespace: string;
  name: string;
}

export interface SandboxRef {
  id: string;
  /** PID of the sandbox's PID 1, in the host PID namespace (ContainerRuntime.inspectSandbox().pid). */
  pid: number;
  /** Started by the caller just now (its namespace holds only lo): the check for an eth0 left by an earlier setup is skipped. */
  fresh?: boolean;
}

export interface PodNetworkStatus extends PodInterface {
  podUID: string;
}

export class PodNetwork {
  readonly bridgeName: string;
  readonly podCIDR: IPv4CIDR;
  readonly clusterCIDR?: IPv4CIDR;
  readonly ipam: HostLocalIPAM;
  readonly hostPorts: HostPortManager;
  private readonly runner: CommandRunner;
  private readonly log: Logger;
  private readonly opts: PodNetworkOptions;

  constructor(opts: PodNetworkOptions) {
    this.opts = opts;
    this.runner = opts.runner;
    this.log = opts.log;
    this.bridgeName = opts.bridgeName ?? 'cbr0';
    if (this.bridgeName.length > 15) throw new Error(`bridge name ${this.bridgeName} is longer than the 15 characters Linux allows`);
    this.podCIDR = parseCIDR(opts.podCIDR);
    if (opts.clusterCIDR) {
      this.clusterCIDR = parseCIDR(opts.clusterCIDR);
      if (!cidrContains(this.clusterCIDR, this.podCIDR.network)) {
        throw new Error(`podCIDR ${this.podCIDR.cidr} is outside the cluster CIDR ${this.clusterCIDR.cidr}; pod traffic would be masqueraded`);
      }
    }
    this.hostPorts = new HostPortManager({ runner: this.runner, log: this.log });
    this.ipam = new HostLocalIPAM({
      dir: opts.ipamDir ?? path.join('/var/lib/tkube/kubelet/networks', this.bridgeName),
      podCIDR: opts.podCIDR,
      log: opts.log,
    });
  }

  /** The bridge's address, every pod's default gateway. */
  get gateway(): string {
    return gatewayAddress(this.podCIDR);
  }

  /** Makes the node ready for pods: bridge up with the gateway address, forwarding on, iptables rules. Idempotent. */
  async ensureNode(): Promise<void> {
    await ensureBridge({ runner: this.runner, name: this.bridgeName, podCIDR: this.podCIDR, mtu: this.opts.mtu, log: this.log });
    if (this.opts.bridgeNetfilter ?? true) {
      try {
        await this.runner.run(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
      } catch (err) {
        this.log.warn({ err }, 'bridge-nf-call-iptables not set (is br_netfilter loaded?); Services between pods of this node may not work');
      }
    }
    if (this.clusterCIDR) await ensurePodNetworkRules(this.runner, this.clusterCIDR.cidr, this.log);
  }

  /**
   * Gives the pod its address and eth0 in the sandbox's namespace. Idempotent for one pod and
   * sandbox: a second call returns the same address. When wiring fails, the address is
   * released again unless it was held before this call. `hostPorts` are forwarded to the pod's
   * address from the node's (./hostports.ts).
   */
  async setUpPod(pod: PodRef, sandbox: SandboxRef, hostPorts: readonly HostPortMapping[] = []): Promise<PodNetworkStatus> {
    const heldBefore = await this.ipam.get(pod.uid);
    const alloc = await this.ipam.allocate({ podUID: pod.uid, sandboxId: sandbox.id, namespace: pod.namespace, name: pod.name });
    try {
      const iface = await attachPodInterface({
        runner: this.runner,
        bridge: this.bridgeName,
        podCIDR: this.podCIDR,
        sandboxId: sandbox.id,
        pid: sandbox.pid,
        ip: alloc.ip,
        mtu: this.opts.mtu,
        hairpin: this.opts.hairpinMode ?? true,
        fresh: sandbox.fresh,
        log: this.log,
      });
      await this.hostPorts.set(pod.uid, { namespace: pod.namespace, name: pod.name, ip: alloc.ip, mappings: [...hostPorts] });
      this.log.info({ pod: `${pod.namespace}/${pod.name}`, podUID: pod.uid, ip: alloc.ip, hostVeth: iface.hostVeth, ...(hostPorts.length ? { hostPorts: hostPorts.map((m) => m.hostPort) } : {}) }, 'pod network set up');
      return { ...iface, podUID: pod.uid };
    } catch (err) {
      if (!heldBefore) await this.ipam.release(pod.uid).catch(() => undefined);
      throw new Error(`setting up the network of pod ${pod.namespace}/${pod.name} (sandbox ${sandbox.id.slice(0, 12)}) failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Removes the pod's veth pair and releases its address. Idempotent; works whether or not the
   * sandbox still runs (a dead sandbox took its end of the pair along already).
   */
  async tearDownPod(podUID: string, sandboxId: string): Promise<void> {
    await this.hostPorts.remove(podUID);
    await detachPodInterface(this.runner, sandboxId);
    const ip = await this.ipam.release(podUID);
    this.log.info({ podUID, sandboxId: sandboxId.slice(0, 12), ip }, 'pod network torn down');
  }

  /** The address the pod holds on this node, if any. */
  podIP(podUID: string): Promise<string | undefined> {
    return this.ipam.get(podUID);
  }

  /** Releases the addresses of pods not in `livePodUIDs`; resolves with what was freed. */
  garbageCollect(livePodUIDs: Iterable<string>): Promise<Allocation[]> {
    return this.ipam.garbageCollect(livePodUIDs);
  }

  /** Routes to other nodes' pod ranges via their addresses; see syncPodRoutes. */
  syncRoutes(nodes: readonly RemoteNode[]): Promise<RouteSyncResult> {
    return syncPodRoutes(this.runner, nodes, this.podCIDR.cidr, this.log);
  }

  /** Undoes ensureNode and the routes: for tests and for taking a node apart. */
  async removeNode(): Promise<void> {
    await syncPodRoutes(this.runner, [], this.podCIDR.cidr, this.log);
    await this.hostPorts.removeAll();
    if (this.clusterCIDR) await removePodNetworkRules(this.runner);
    await deleteBridge(this.runner, this.bridgeName);
  }
}
