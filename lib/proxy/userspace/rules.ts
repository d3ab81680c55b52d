/**
 * The nat rules of userspace mode, as the old upstream userspace proxier wrote them: traffic for
 * a service address is REDIRECTed to the local port of the proxy's listener.
 *
 *   PREROUTING ─▶ KUBE-PORTALS-CONTAINER   (from pods and other hosts)   clusterIP/externalIP/LB IP:port ─▶ REDIRECT
 *   OUTPUT     ─▶ KUBE-PORTALS-HOST        (from the node itself)        same
 *   PREROUTING ─▶ KUBE-NODEPORT-CONTAINER  (dst-type LOCAL)              nodePort ─▶ REDIRECT
 *   OUTPUT     ─▶ KUBE-NODEPORT-HOST       (dst-type LOCAL)              same
 */
import type { ServicePortInfo } from '../service-port.js';
import { KUBE_NODEPORT_CONTAINER, KUBE_NODEPORT_HOST, KUBE_PORTALS_CONTAINER, KUBE_PORTALS_HOST, userspaceChains } from '../iptables/chain-names.js';
import { formatRule, type JumpRule } from '../iptables/rules.js';

export interface ProxiedPort {
  info: ServicePortInfo;
  /** Local port of the listener. */
  proxyPort: number;
}

export interface UserspaceRules {
  chains: string[];
  rules: string[];
  jumps: JumpRule[];
}

const portalsComment = 'handle ClusterIPs; NOTE: this must be before the NodePort rules';
const nodePortsComment = 'handle service NodePorts; NOTE: this must be the last rule in the chain';

export function userspaceJumpRules(): JumpRule[] {
  const c = (text: string) => ['-m', 'comment', '--comment', text];
  return [
    { table: 'nat', chain: 'PREROUTING', target: KUBE_PORTALS_CONTAINER, args: [...c(portalsComment), '-j', KUBE_PORTALS_CONTAINER] },
    { table: 'nat', chain: 'OUTPUT', target: KUBE_PORTALS_HOST, args: [...c(portalsComment), '-j', KUBE_PORTALS_HOST] },
    { table: 'nat', chain: 'PREROUTING', target: KUBE_NODEPORT_CONTAINER, args: ['-m', 'addrtype', '--dst-type', 'LOCAL', ...c(nodePortsComment), '-j', KUBE_NODEPORT_CONTAINER] },
    { table: 'nat', chain: 'OUTPUT', target: KUBE_NODEPORT_HOST, args: ['-m', 'addrtype', '--dst-type', 'LOCAL', ...c(nodePortsComment), '-j', KUBE_NODEPORT_HOST] },
  ];
}

/** Rules for the given ports, sorted by service port name so that the output is stable. */
export function generateUserspaceRules(ports: readonly ProxiedPort[]): UserspaceRules {
  const rules: string[] = [];
  const sorted = [...ports].sort((a, b) => (a.info.name < b.info.name ? -1 : a.info.name > b.info.name ? 1 : a.info.protocol < b.info.protocol ? -1 : 1));
  for (const { info, proxyPort } of sorted) {
    const proto = info.protocol.toLowerCase();
    const redirect = ['-j', 'REDIRECT', '--to-ports', String(proxyPort)];
    const comment = ['-m', 'comment', '--comment', info.name];
    for (const ip of [info.clusterIP, ...info.externalIPs, ...info.loadBalancerIPs]) {
      const match = [...comment, '-m', proto, '-p', proto, '-d', `${ip}/32`, '--dport', String(info.port), ...redirect];
      rules.push(formatRule('-A', KUBE_PORTALS_CONTAINER, match), formatRule('-A', KUBE_PORTALS_HOST, match));
    }
    if (info.nodePort) {
      const match = [...comment, '-m', proto, '-p', proto, '--dport', String(info.nodePort), ...redirect];
      rules.push(formatRule('-A', KUBE_NODEPORT_CONTAINER, match), formatRule('-A', KUBE_NODEPORT_HOST, match));
    }
  }
  // Group by chain, keeping the order within each.
  const byChain = userspaceChains.flatMap((c) => rules.filter((r) => r.startsWith(`-A ${c} `)));
  return { chains: [...userspaceChains], rules: byChain, jumps: userspaceJumpRules() };
}

export interface UserspaceRenderOptions {
  deleteChains?: { filter?: readonly string[]; nat?: readonly string[] };
  deleteRules?: readonly JumpRule[];
  insertJumps?: readonly JumpRule[];
}

/** The iptables-restore --noflush payload: the four chains rewritten, leftovers removed. */
export function renderUserspaceRestore(r: UserspaceRules, opts: UserspaceRenderOptions = {}): string {
  const out: string[] = [];
  const filterDel = opts.deleteChains?.filter ?? [];
  const filterRules = (opts.deleteRules ?? []).filter((j) => j.table === 'filter');
  if (filterDel.length || filterRules.length) {
    out.push('*filter');
    for (const c of filterDel) out.push(`:${c} - [0:0]`);
    for (const j of filterRules) out.push(formatRule('-D', j.chain, j.args));
    for (const c of filterDel) out.push(`-X ${c}`);
    out.push('COMMIT');
  }
  out.push('*nat');
  const natDel = (opts.deleteChains?.nat ?? []).filter((c) => !r.chains.includes(c));
  for (const c of [...r.chains, ...natDel]) out.push(`:${c} - [0:0]`);
  for (const j of (opts.deleteRules ?? []).filter((j) => j.table === 'nat')) out.push(formatRule('-D', j.chain, j.args));
  for (const j of [...(opts.insertJumps ?? [])].reverse()) if (j.table === 'nat') out.push(formatRule('-I', j.chain, j.args));
  out.push(...r.rules);
  for (const c of natDel) out.push(`-X ${c}`);
  out.push('COMMIT');
  return out.join('\n') + '\n';
}
