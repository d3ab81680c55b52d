/**
 * Services: ClusterIP and NodePort allocation from the configured ranges. Values are
 * allocated before the service is stored and released if storing fails, when the service is
 * deleted, or when an update no longer needs them.
 */
import type { KubeObject, Service } from '../../api/index.js';
import { fieldPath, newInvalid, type FieldError } from '../../machinery/index.js';
import type { Storage } from '../../storage/index.js';
import { AllocationError, RangeAllocator, cidrContains, intToIP, ipToInt, parseCIDR, type CIDR } from '../allocator/range.js';
import type { Strategy } from '../strategy.js';

export interface ServiceAllocatorsOptions {
  storage: Storage;
  /** e.g. 10.96.0.0/12 */
  serviceCIDR: string;
  /** e.g. "30000-32767" */
  nodePortRange: string;
  prefix: string;
}

export function parsePortRange(s: string): { base: number; size: number; text: string } {
  const m = /^(\d+)-(\d+)$/.exec(s.trim());
  if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) > 65535 || Number(m[1]) < 1) throw new Error(`invalid port range ${JSON.stringify(s)} (expected e.g. 30000-32767)`);
  return { base: Number(m[1]), size: Number(m[2]) - Number(m[1]) + 1, text: `${m[1]}-${m[2]}` };
}

export class ServiceAllocators {
  readonly cidr: CIDR;
  readonly ips: RangeAllocator;
  readonly ports: RangeAllocator;
  readonly portRange: { base: number; size: number; text: string };

  constructor(opts: ServiceAllocatorsOptions) {
    this.cidr = parseCIDR(opts.serviceCIDR);
    this.portRange = parsePortRange(opts.nodePortRange);
    // Network and broadcast addresses are never handed out.
    this.ips = new RangeAllocator(opts.storage, `${opts.prefix}/ranges/serviceips`, this.cidr.size, this.cidr.text, new Set([0, this.cidr.size - 1]));
    this.ports = new RangeAllocator(opts.storage, `${opts.prefix}/ranges/servicenodeports`, this.portRange.size, this.portRange.text);
  }

  /** The first usable address: the `kubernetes` service's ClusterIP. */
  get kubernetesServiceIP(): string {
    return intToIP(this.cidr.base + 1);
  }

  async allocateIP(svcName: string, requested: string | undefined): Promise<string> {
    if (requested) {
      if (!cidrContains(this.cidr, requested))
        throw invalid(svcName, fieldPath('spec.clusterIPs'), [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.cidr.text}`);
      try {
        await this.ips.allocate(ipToInt(requested) - this.cidr.base);
      } catch (err) {
        if (err instanceof AllocationError) throw invalid(svcName, fieldPath('spec.clusterIPs'), [requested], `failed to allocate IP ${requested}: provided IP is already allocated`);
        throw err;
      }
      return requested;
    }
    try {
      return intToIP(this.cidr.base + (await this.ips.allocate()));
    } catch (err) {
      if (err instanceof AllocationError) throw invalid(svcName, fieldPath('spec.clusterIPs'), [], `failed to allocate a serviceIP: range is full`);
      throw err;
    }
  }

  async releaseIP(ip: string | undefined): Promise<void> {
    if (!ip || ip === 'None' || !cidrContains(this.cidr, ip)) return;
    await this.ips.release(ipToInt(ip) - this.cidr.base);
  }

  async allocatePort(svcName: string, path: string, requested: number | undefined): Promise<number> {
    if (requested) {
      if (requested < this.portRange.base || requested >= this.portRange.base + this.portRange.size)
        throw invalid(svcName, fieldPath(path), requested, `provided port is not in the valid range. The range of valid ports is ${this.portRange.text}`);
      try {
        await this.ports.allocate(requested - this.portRange.base);
      } catch (err) {
        if (err instanceof AllocationError) throw invalid(svcName, fieldPath(path), requested, 'provided port is already allocated');
        throw err;
      }
      return requested;
    }
    try {
      return this.portRange.base + (await this.ports.allocate());
    } catch (err) {
      if (err instanceof AllocationError) throw invalid(svcName, fieldPath(path), 0, 'failed to allocate a nodePort: range is full');
      throw err;
    }
  }

  async releasePort(port: number | undefined): Promise<void> {
    if (!port) return;
    await this.ports.release(port - this.portRange.base);
  }

  /** Rebuilds both bitmaps from the services that exist (run at start-up). */
  async repair(services: Service[]): Promise<void> {
    const ips: number[] = [];
    const ports: number[] = [];
    for (const s of services) {
      const ip = s.spec?.clusterIP;
      if (ip && ip !== 'None' && cidrContains(this.cidr, ip)) ips.push(ipToInt(ip) - this.cidr.base);
      for (const p of s.spec?.ports ?? []) if (p.nodePort) ports.push(p.nodePort - this.portRange.base);
    }
    await this.ips.reset(ips);
    await this.ports.reset(ports);
  }
}

function invalid(name: string, p: ReturnType<typeof fieldPath>, value: unknown, detail: string) {
  const e: FieldError = p.invalid(value, detail);
  return newInvalid('', 'Service', name, [e]);
}

const needsNodePorts = (s: Service) => s.spec?.type === 'NodePort' || (s.spec?.type === 'LoadBalancer' && s.spec.allocateLoadBalancerNodePorts !== false);
const needsClusterIP = (s: Service) => s.spec?.type !== 'ExternalName' && s.spec?.clusterIP !== 'None';

/**
 * Allocates what `svc` needs and `prev` (the stored service, on update) does not already hold:
 * a ClusterIP and node ports. Returns the undo that gives them back; on failure nothing stays
 * allocated.
 */
async function allocateMissing(alloc: ServiceAllocators, svc: Service, prev: Service | undefined): Promise<() => Promise<void>> {
  const spec = (svc.spec ??= {});
  const name = svc.metadata.name ?? '';
  const taken: { ip?: string; ports: number[] } = { ports: [] };
  const undo = async () => {
    await alloc.releaseIP(taken.ip);
    for (const p of taken.ports) await alloc.releasePort(p);
  };
  try {
    if (needsClusterIP(svc) && !prev?.spec?.clusterIP) {
      spec.clusterIP = taken.ip = await alloc.allocateIP(name, spec.clusterIP || spec.clusterIPs?.[0]);
      spec.clusterIPs = [spec.clusterIP];
    }
    if (needsNodePorts(svc)) {
      const held = new Set((prev?.spec?.ports ?? []).map((p) => p.nodePort).filter((p): p is number => !!p));
      for (const [i, p] of (spec.ports ?? []).entries()) {
        if (p.nodePort && held.has(p.nodePort)) continue;
        p.nodePort = await alloc.allocatePort(name, `spec.ports[${i}].nodePort`, p.nodePort);
        taken.ports.push(p.nodePort);
      }
    }
  } catch (err) {
    await undo();
    throw err;
  }
  return undo;
}

export function serviceStrategy(alloc: ServiceAllocators): Strategy {
  return {
    allowCreateOnUpdate: true,
    prepareForCreate(obj) {
      delete obj.status;
      (obj as Service).status = { loadBalancer: {} };
    },
    prepareForUpdate(obj, old, ctx) {
      const svc = obj as Service;
      const prev = old as Service;
      if (ctx.subresource === 'status') {
        svc.spec = prev.spec;
        return;
      }
      svc.status = prev.status;
      const spec = (svc.spec ??= {});
      // Clients that omit allocated values (kubectl replace, apply) keep them.
      if (!spec.clusterIP && prev.spec?.clusterIP && spec.type !== 'ExternalName' && prev.spec.type !== 'ExternalName') {
        spec.clusterIP = prev.spec.clusterIP;
        spec.clusterIPs = prev.spec.clusterIPs;
      }
      if (spec.type === 'ExternalName') {
        delete spec.clusterIP;
        delete spec.clusterIPs;
      }
      const stillNodePorts = needsNodePorts(svc);
      for (const p of spec.ports ?? []) {
        const match = prev.spec?.ports?.find((q) => q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'));
        if (stillNodePorts && !p.nodePort && match?.nodePort) p.nodePort = match.nodePort;
        if (!stillNodePorts && p.nodePort && p.nodePort === match?.nodePort) delete p.nodePort;
      }
    },
    async beforeCreate(obj) {
      const svc = obj as Service;
      if (svc.spec?.clusterIP === 'None') svc.spec.clusterIPs = ['None'];
      return allocateMissing(alloc, svc, undefined);
    },
    async beforeUpdate(obj, old) {
      return allocateMissing(alloc, obj as Service, old as Service);
    },
    async afterUpdate(obj, old) {
      const svc = obj as Service;
      const prev = old as Service;
      if (prev.spec?.clusterIP && prev.spec.clusterIP !== svc.spec?.clusterIP) await alloc.releaseIP(prev.spec.clusterIP);
      const now = new Set((svc.spec?.ports ?? []).map((p) => p.nodePort));
      for (const p of prev.spec?.ports ?? []) if (p.nodePort && !now.has(p.nodePort)) await alloc.releasePort(p.nodePort);
    },
    async afterDelete(obj: KubeObject) {
      const svc = obj as Service;
      await alloc.releaseIP(svc.spec?.clusterIP);
      for (const p of svc.spec?.ports ?? []) await alloc.releasePort(p.nodePort);
    },
  };
}
