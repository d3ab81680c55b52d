/**
 * From the metrics' proposal to the replica count actually set (upstream's
 * normalizeDesiredReplicas and normalizeDesiredReplicasWithBehaviors):
 *
 *   proposal ──► stabilization ──► rate limits ──► [minReplicas, maxReplicas]
 *
 * Stabilization keeps the recommendations of each autoscaler in memory, timestamped: a
 * scale-down goes no lower than the highest recommendation of the scale-down window, a
 * scale-up no higher than the lowest of the scale-up window (0 s by default: none). Rate
 * limits keep the scale events of each autoscaler: a policy allows a change relative to the
 * replica count at the start of its period (Pods: ± value; Percent: × (1 ± value%)); selectPolicy
 * Max takes the policy allowing the biggest change, Min the smallest, Disabled none.
 *
 * Without spec.behavior, upstream's older rules apply: the scale-down window is the
 * controller's --horizontal-pod-autoscaler-downscale-stabilization, scale-ups are unstabilized
 * and limited to max(2 × current, 4) per sync.
 */
import type { HorizontalPodAutoscaler } from '../../api/index.js';

type Behavior = NonNullable<NonNullable<HorizontalPodAutoscaler['spec']>['behavior']>;
export type ScalingRules = NonNullable<Behavior['scaleUp']>;

interface TimestampedRecommendation {
  recommendation: number;
  timestamp: number;
}

interface TimestampedScaleEvent {
  /** Replicas added (scale-up) or removed (scale-down): never negative. */
  replicaChange: number;
  timestamp: number;
  outdated: boolean;
}

/** A limiting outcome: the reason and message of the ScalingLimited (or AbleToScale) condition. */
export interface Limited {
  replicas: number;
  reason: string;
  message: string;
}

const scaleUpLimitFactor = 2.0;
const scaleUpLimitMinimum = 4.0;
const int32Max = 2 ** 31 - 1;
const int32Min = -(2 ** 31);

/** Upstream's defaults for spec.behavior.scaleUp (GenerateHPAScaleUpRules). */
export function defaultScaleUpRules(): ScalingRules {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/** Upstream's defaults for spec.behavior.scaleDown (GenerateHPAScaleDownRules); the window comes from the controller's flag. */
export function defaultScaleDownRules(): ScalingRules {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

/** Fills what the API server's defaulting may have left unset, as upstream's defaulting would have. */
export function completeRules(rules: ScalingRules | undefined, defaults: ScalingRules, stabilizationWindowSeconds?: number): Required<Pick<ScalingRules, 'stabilizationWindowSeconds' | 'selectPolicy' | 'policies'>> {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds ?? stabilizationWindowSeconds ?? 0,
    selectPolicy: rules?.selectPolicy ?? defaults.selectPolicy ?? 'Max',
    policies: rules?.policies && rules.policies.length > 0 ? rules.policies : (defaults.policies ?? []),
  };
}

export interface NormalizationArgs {
  key: string;
  scaleUp: Required<Pick<ScalingRules, 'stabilizationWindowSeconds' | 'selectPolicy' | 'policies'>>;
  scaleDown: Required<Pick<ScalingRules, 'stabilizationWindowSeconds' | 'selectPolicy' | 'policies'>>;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  desiredReplicas: number;
}

/**
 * What the controller remembers of each autoscaler between syncs (in memory, as upstream: a
 * restart starts afresh). Keyed by `namespace/name`; `forget` when the autoscaler is deleted.
 */
export class ScalingHistory {
  private readonly recommendations = new Map<string, TimestampedRecommendation[]>();
  private readonly scaleUpEvents = new Map<string, TimestampedScaleEvent[]>();
  private readonly scaleDownEvents = new Map<string, TimestampedScaleEvent[]>();

  forget(key: string): void {
    this.recommendations.delete(key);
    this.scaleUpEvents.delete(key);
    this.scaleDownEvents.delete(key);
  }

  /** The first time an autoscaler is seen, its current count counts as a recommendation (so a fresh start does not scale down at once). */
  recordInitialRecommendation(key: string, currentReplicas: number, now: number): void {
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ recommendation: currentReplicas, timestamp: now }]);
  }

  /** Records `recommendation`, reusing a slot older than `isOld` says, so the list does not grow without bound. */
  private record(key: string, recommendation: number, now: number, isOld: (r: TimestampedRecommendation) => boolean): void {
    const list = this.recommendations.get(key) ?? [];
    let oldIndex = -1;
    list.forEach((r, i) => {
      if (isOld(r)) oldIndex = i;
    });
    if (oldIndex >= 0) list[oldIndex] = { recommendation, timestamp: now };
    else list.push({ recommendation, timestamp: now });
    this.recommendations.set(key, list);
  }

  /**
   * Without behavior (upstream stabilizeRecommendation): the highest recommendation of the
   * last `windowMs`, this one included.
   */
  stabilizeRecommendation(key: string, prenormalized: number, windowMs: number, now: number): number {
    const cutoff = now - windowMs;
    let max = prenormalized;
    for (const r of this.recommendations.get(key) ?? []) if (r.timestamp >= cutoff && r.recommendation > max) max = r.recommendation;
    this.record(key, prenormalized, now, (r) => r.timestamp < cutoff);
    return max;
  }

  /**
   * With behavior (upstream stabilizeRecommendationWithBehaviors): the current count, raised to
   * the lowest recommendation of the scale-up window and lowered to the highest of the
   * scale-down window. Returns the reason and message for AbleToScale should the result differ
   * from the proposal.
   */
  stabilizeRecommendationWithBehaviors(args: NormalizationArgs, now: number): Limited {
    const upCutoff = now - args.scaleUp.stabilizationWindowSeconds * 1000;
    const downCutoff = now - args.scaleDown.stabilizationWindowSeconds * 1000;
    let upRecommendation = args.desiredReplicas;
    let downRecommendation = args.desiredReplicas;
    for (const r of this.recommendations.get(args.key) ?? []) {
      if (r.timestamp > upCutoff) upRecommendation = Math.min(r.recommendation, upRecommendation);
      if (r.timestamp > downCutoff) downRecommendation = Math.max(r.recommendation, downRecommendation);
    }
    let recommendation = args.currentReplicas;
    if (recommendation < upRecommendation) recommendation = upRecommendation;
    if (recommendation > downRecommendation) recommendation = downRecommendation;
    this.record(args.key, args.desiredReplicas, now, (r) => r.timestamp < upCutoff && r.timestamp < downCutoff);
    if (args.desiredReplicas >= args.currentReplicas) {
      return { replicas: recommendation, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' };
    }
    return { replicas: recommendation, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  }

  /** The rate limits of behavior, then minReplicas and maxReplicas (upstream convertDesiredReplicasWithBehaviorRate). */
  convertDesiredReplicasWithBehaviorRate(args: NormalizationArgs, now: number): Limited {
    const up = this.scaleUpEvents.get(args.key) ?? [];
    const down = this.scaleDownEvents.get(args.key) ?? [];
    if (args.desiredReplicas > args.currentReplicas) {
      // Scaling up faster than the policies allow waits until old events leave their periods.
      const scaleUpLimit = Math.max(calculateScaleUpLimitWithScalingRules(args.currentReplicas, up, down, args.scaleUp, now), args.currentReplicas);
      let maximumAllowed = args.maxReplicas;
      let limited: Omit<Limited, 'replicas'>;
      if (maximumAllowed > scaleUpLimit) {
        maximumAllowed = scaleUpLimit;
        limited = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
      } else {
        limited = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
      }
      if (args.desiredReplicas > maximumAllowed) return { replicas: maximumAllowed, ...limited };
    } else if (args.desiredReplicas < args.currentReplicas) {
      const scaleDownLimit = Math.min(calculateScaleDownLimitWithBehaviors(args.currentReplicas, up, down, args.scaleDown, now), args.currentReplicas);
      let minimumAllowed = args.minReplicas;
      let limited: Omit<Limited, 'replicas'>;
      if (minimumAllowed < scaleDownLimit) {
        minimumAllowed = scaleDownLimit;
        limited = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' };
      } else {
        limited = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
      }
      if (args.desiredReplicas < minimumAllowed) return { replicas: minimumAllowed, ...limited };
    }
    return { replicas: args.desiredReplicas, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  }

  /**
   * Remembers a rescale for the rate limits (only autoscalers with behavior use them), reusing
   * an event older than the longest policy period of its direction.
   */
  storeScaleEvent(key: string, behavior: { scaleUp: { policies: ScalingRules['policies'] }; scaleDown: { policies: ScalingRules['policies'] } } | undefined, prevReplicas: number, newReplicas: number, now: number): void {
    if (!behavior) return;
    const up = newReplicas > prevReplicas;
    const map = up ? this.scaleUpEvents : this.scaleDownEvents;
    const events = map.get(key) ?? [];
    const cutoff = now - longestPolicyPeriod(up ? behavior.scaleUp.policies : behavior.scaleDown.policies) * 1000;
    let oldIndex = -1;
    events.forEach((e, i) => {
      if (e.timestamp < cutoff) e.outdated = true;
      if (e.outdated) oldIndex = i;
    });
    const event = { replicaChange: up ? newReplicas - prevReplicas : prevReplicas - newReplicas, timestamp: now, outdated: false };
    if (oldIndex >= 0) events[oldIndex] = event;
    else events.push(event);
    map.set(key, events);
  }
}

/** Without behavior (upstream convertDesiredReplicasWithRules): minReplicas, then max(2 × current, 4) and maxReplicas. */
export function convertDesiredReplicasWithRules(currentReplicas: number, desiredReplicas: number, minReplicas: number, maxReplicas: number): Limited {
  // Against bogus usage reports (upstream issue 32304), a scale-up at most doubles (or reaches 4).
  const scaleUpLimit = calculateScaleUpLimit(currentReplicas);
  let maximumAllowed: number;
  let limited: Omit<Limited, 'replicas'>;
  if (maxReplicas > scaleUpLimit) {
    maximumAllowed = scaleUpLimit;
    limited = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' };
  } else {
    maximumAllowed = maxReplicas;
    limited = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
  }
  if (desiredReplicas < minReplicas) return { replicas: minReplicas, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  if (desiredReplicas > maximumAllowed) return { replicas: maximumAllowed, ...limited };
  return { replicas: desiredReplicas, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

export function calculateScaleUpLimit(currentReplicas: number): number {
  return Math.trunc(Math.max(scaleUpLimitFactor * currentReplicas, scaleUpLimitMinimum));
}

/** Replicas changed (in one direction) within the last `periodSeconds`. */
function replicasChangePerPeriod(periodSeconds: number, events: TimestampedScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let n = 0;
  for (const e of events) if (e.timestamp > cutoff) n += e.replicaChange;
  return n;
}

/** The replica count at the start of a policy's period: the current one, less what was added and plus what was removed since. */
function replicasAtPeriodStart(currentReplicas: number, periodSeconds: number, scaleUpEvents: TimestampedScaleEvent[], scaleDownEvents: TimestampedScaleEvent[], now: number): number {
  return currentReplicas - replicasChangePerPeriod(periodSeconds, scaleUpEvents, now) + replicasChangePerPeriod(periodSeconds, scaleDownEvents, now);
}

function longestPolicyPeriod(policies: ScalingRules['policies']): number {
  let longest = 0;
  for (const p of policies ?? []) if (p.periodSeconds > longest) longest = p.periodSeconds;
  return longest;
}

/** The most replicas the scale-up policies allow now (upstream calculateScaleUpLimitWithScalingRules). */
export function calculateScaleUpLimitWithScalingRules(currentReplicas: number, scaleUpEvents: TimestampedScaleEvent[], scaleDownEvents: TimestampedScaleEvent[], rules: NormalizationArgs['scaleUp'], now: number): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  // Scaling up, the smallest change ('Min') gives the lowest limit.
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? int32Max : int32Min;
  for (const policy of rules.policies) {
    const periodStartReplicas = replicasAtPeriodStart(currentReplicas, policy.periodSeconds, scaleUpEvents, scaleDownEvents, now);
    let proposed = periodStartReplicas;
    if (policy.type === 'Pods') proposed = periodStartReplicas + policy.value;
    // Rounded up, or a small count could never grow.
    else if (policy.type === 'Percent') proposed = Math.ceil(periodStartReplicas * (1 + policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now (upstream calculateScaleDownLimitWithBehaviors). */
export function calculateScaleDownLimitWithBehaviors(currentReplicas: number, scaleUpEvents: TimestampedScaleEvent[], scaleDownEvents: TimestampedScaleEvent[], rules: NormalizationArgs['scaleDown'], now: number): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  // Scaling down, the smallest change ('Min') gives the highest limit.
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? int32Min : int32Max;
  for (const policy of rules.policies) {
    const periodStartReplicas = replicasAtPeriodStart(currentReplicas, policy.periodSeconds, scaleUpEvents, scaleDownEvents, now);
    let proposed = periodStartReplicas;
    if (policy.type === 'Pods') proposed = periodStartReplicas - policy.value;
    else if (policy.type === 'Percent') proposed = Math.trunc(periodStartReplicas * (1 - policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}
