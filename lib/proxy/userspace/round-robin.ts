/**
 * Backend choice of userspace mode, as the old upstream LoadBalancerRR: strict rotation over the
 * endpoints of a service port, and with ClientIP affinity a client keeps its backend while it
 * comes back within the timeout. This is the visible difference from iptables mode, where each
 * new connection draws a backend at random in the kernel.
 */
interface PortState {
  endpoints: string[];
  index: number;
  stickyMs: number;
  affinity: Map<string, { endpoint: string; lastUsed: number }>;
}

export class RoundRobinBalancer {
  private readonly ports = new Map<string, PortState>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Sets the endpoints (ip:port) of a service port. The rotation restarts when the list changes;
   * pins to endpoints that are gone are dropped (and all pins when affinity is turned off).
   */
  update(key: string, endpoints: readonly string[], stickySeconds: number): void {
    const cur = this.ports.get(key);
    const stickyMs = stickySeconds * 1000;
    if (!cur) {
      this.ports.set(key, { endpoints: [...endpoints], index: 0, stickyMs, affinity: new Map() });
      return;
    }
    const same = cur.endpoints.length === endpoints.length && cur.endpoints.every((e, i) => e === endpoints[i]);
    if (!same) {
      cur.endpoints = [...endpoints];
      cur.index = 0;
      const live = new Set(endpoints);
      for (const [ip, a] of cur.affinity) if (!live.has(a.endpoint)) cur.affinity.delete(ip);
    }
    if (stickyMs === 0) cur.affinity.clear();
    cur.stickyMs = stickyMs;
  }

  delete(key: string): void {
    this.ports.delete(key);
  }

  endpoints(key: string): readonly string[] {
    return this.ports.get(key)?.endpoints ?? [];
  }

  /**
   * The backend for a new connection (or UDP flow) from `clientIP`; undefined without endpoints.
   * `resetAffinity` after the pinned backend failed to answer, to move the client on.
   */
  next(key: string, clientIP: string, resetAffinity = false): string | undefined {
    const st = this.ports.get(key);
    if (!st || st.endpoints.length === 0) return undefined;
    const now = this.now();
    if (st.stickyMs > 0 && !resetAffinity) {
      const pin = st.affinity.get(clientIP);
      if (pin && now - pin.lastUsed <= st.stickyMs) {
        pin.lastUsed = now;
        return pin.endpoint;
      }
    }
    const endpoint = st.endpoints[st.index % st.endpoints.length]!;
    st.index = (st.index + 1) % st.endpoints.length;
    if (st.stickyMs > 0) st.affinity.set(clientIP, { endpoint, lastUsed: now });
    return endpoint;
  }
}
