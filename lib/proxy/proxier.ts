/** The role every proxy mode plays; see iptables/proxier.ts and userspace/proxier.ts. */
import type { Runnable } from '../base/index.js';
import type { ProxyStateSink } from './state.js';

/**
 * A service proxy: given the desired Services and EndpointSlices, makes traffic to cluster IPs,
 * node ports and external IPs reach the endpoints.
 *
 * Contract: state may be fed before or after `start`; nothing is programmed until both initial
 * lists are known (`setState`, or both `on*Synced` calls), so that a restart never removes rules
 * of services not listed yet. `start` runs until its signal aborts and leaves the rules in place
 * (connections keep working while the proxy restarts); `cleanup` removes everything this mode
 * installed. Methods are safe to call from event handlers: they only record and schedule.
 */
export interface Proxier extends ProxyStateSink, Runnable {
  /** Removes every rule (and, in userspace mode, listener) the proxy installed. */
  cleanup(): Promise<void>;
  /** Time (ms since epoch) of the last successful sync, if any. */
  readonly lastSyncTime: number | undefined;
  /** Bumped by every state change. */
  readonly stateGeneration: number;
  /**
   * The state generation the last successful sync programmed: once it reaches the value
   * `stateGeneration` had after a change, that change is in the kernel.
   */
  readonly syncedGeneration: number;
}
