import { describe, expect, test } from 'vitest';
import { ScalingHistory, completeRules, convertDesiredReplicasWithRules, defaultScaleDownRules, defaultScaleUpRules, type NormalizationArgs, type ScalingRules } from './normalization.js';

const t0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const s = (n: number) => t0 + n * 1000;
const key = 'default/web';

function args(o: Partial<NormalizationArgs> & { up?: ScalingRules; down?: ScalingRules; downWindow?: number }): NormalizationArgs {
  return {
    key,
    scaleUp: completeRules(o.up, defaultScaleUpRules()),
    scaleDown: completeRules(o.down, defaultScaleDownRules(), o.downWindow ?? 300),
    minReplicas: o.minReplicas ?? 1,
    maxReplicas: o.maxReplicas ?? 100,
    currentReplicas: o.currentReplicas ?? 1,
    desiredReplicas: o.desiredReplicas ?? 1,
  };
}

/** Stabilization then rate limits, as the controller runs them. */
function normalize(h: ScalingHistory, a: NormalizationArgs, now: number) {
  const stabilized = h.stabilizeRecommendationWithBehaviors(a, now);
  const limited = h.convertDesiredReplicasWithBehaviorRate({ ...a, desiredReplicas: stabilized.replicas }, now);
  return { stabilized, limited };
}

describe('without spec.behavior', () => {
  test('a scale-down takes the highest recommendation of the downscale window', () => {
    const h = new ScalingHistory();
    h.recordInitialRecommendation(key, 5, s(0));
    expect(h.stabilizeRecommendation(key, 2, 300_000, s(60))).toBe(5);
    expect(h.stabilizeRecommendation(key, 3, 300_000, s(120))).toBe(5);
    // The initial 5 left the window; 3 (at 120s) is still in it.
    expect(h.stabilizeRecommendation(key, 2, 300_000, s(301))).toBe(3);
    expect(h.stabilizeRecommendation(key, 2, 300_000, s(421))).toBe(2);
    // A scale-up is never held back.
    expect(h.stabilizeRecommendation(key, 9, 300_000, s(422))).toBe(9);
  });

  test.each([
    ['within range', 3, 4, 1, 10, { replicas: 4, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' }],
    ['at most doubles (or reaches 4) per sync', 2, 10, 1, 20, { replicas: 4, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }],
    ['doubling from 5', 5, 30, 1, 20, { replicas: 10, reason: 'ScaleUpLimit' }],
    ['maxReplicas', 3, 10, 1, 5, { replicas: 5, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' }],
    ['minReplicas', 3, 1, 2, 5, { replicas: 2, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' }],
  ] as const)('%s', (_what, current, desired, min, max, want) => {
    expect(convertDesiredReplicasWithRules(current, desired, min, max)).toMatchObject(want);
  });
});

describe('with spec.behavior: stabilization windows', () => {
  test('a scale-down waits for the scale-down window, keeping the highest recommendation', () => {
    const h = new ScalingHistory();
    h.recordInitialRecommendation(key, 4, s(0));
    const first = normalize(h, args({ currentReplicas: 4, desiredReplicas: 1, downWindow: 60 }), s(10));
    expect(first.stabilized).toEqual({ replicas: 4, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' });
    expect(first.limited.replicas).toBe(4);
    // At 61s the 4 of t0 has left the window; the 1 of 10s is the highest left.
    expect(normalize(h, args({ currentReplicas: 4, desiredReplicas: 1, downWindow: 60 }), s(61)).limited).toEqual({
      replicas: 1,
      reason: 'DesiredWithinRange',
      message: 'the desired count is within the acceptable range',
    });
  });

  test('a recommendation between two holds at the highest of the window, not the current count', () => {
    const h = new ScalingHistory();
    h.recordInitialRecommendation(key, 10, s(0));
    normalize(h, args({ currentReplicas: 10, desiredReplicas: 6, downWindow: 60 }), s(15));
    // At 70s: the 10 is gone, the 6 of 15s remains: 10 → 6 (not 2).
    expect(normalize(h, args({ currentReplicas: 10, desiredReplicas: 2, downWindow: 60 }), s(70)).stabilized.replicas).toBe(6);
  });

  test('a scale-up window keeps the lowest recommendation', () => {
    const h = new ScalingHistory();
    h.recordInitialRecommendation(key, 2, s(0));
    const r = normalize(h, args({ currentReplicas: 2, desiredReplicas: 8, up: { stabilizationWindowSeconds: 60 } }), s(10));
    expect(r.stabilized).toEqual({ replicas: 2, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' });
    // Without an up window (the default), the same proposal goes through at once.
    const h2 = new ScalingHistory();
    h2.recordInitialRecommendation(key, 2, s(0));
    expect(normalize(h2, args({ currentReplicas: 2, desiredReplicas: 5 }), s(10)).limited.replicas).toBe(5);
  });

  test('the scale-down window defaults to the flag when behavior leaves it unset', () => {
    expect(completeRules({ selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] }, defaultScaleDownRules(), 300)).toEqual({
      stabilizationWindowSeconds: 300,
      selectPolicy: 'Max',
      policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
    });
    expect(completeRules(undefined, defaultScaleUpRules())).toEqual({ stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: defaultScaleUpRules().policies });
  });
});

describe('with spec.behavior: rate limits', () => {
  test('default scale-up: the larger of +4 pods and +100% per 15 seconds, counted from the start of the period', () => {
    const h = new ScalingHistory();
    const rules = { scaleUp: completeRules(undefined, defaultScaleUpRules()), scaleDown: completeRules(undefined, defaultScaleDownRules(), 300) };
    // From 2: max(2 + 4, 2 × 2) = 6.
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 2, desiredReplicas: 20 }), s(0))).toEqual({
      replicas: 6,
      reason: 'ScaleUpLimit',
      message: 'the desired replica count is increasing faster than the maximum scale rate',
    });
    h.storeScaleEvent(key, rules, 2, 6, s(0));
    // 5 seconds later the period still started at 2: no further growth.
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 6, desiredReplicas: 20 }), s(5))).toMatchObject({ replicas: 6, reason: 'ScaleUpLimit' });
    // Once the event leaves the 15-second period: from 6, max(10, 12) = 12.
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 6, desiredReplicas: 20 }), s(16))).toMatchObject({ replicas: 12, reason: 'ScaleUpLimit' });
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 6, desiredReplicas: 9 }), s(16))).toMatchObject({ replicas: 9, reason: 'DesiredWithinRange' });
  });

  test('selectPolicy Min takes the smallest change; Disabled none', () => {
    const h = new ScalingHistory();
    const up = { selectPolicy: 'Min' as const, policies: [{ type: 'Pods' as const, value: 4, periodSeconds: 15 }, { type: 'Percent' as const, value: 100, periodSeconds: 15 }] };
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 2, desiredReplicas: 20, up }), s(0)).replicas).toBe(4);
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 2, desiredReplicas: 20, up: { selectPolicy: 'Disabled' } }), s(0))).toMatchObject({ replicas: 2, reason: 'ScaleUpLimit' });
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 5, desiredReplicas: 1, down: { selectPolicy: 'Disabled' } }), s(0))).toMatchObject({
      replicas: 5,
      reason: 'ScaleDownLimit',
      message: 'the desired replica count is decreasing faster than the maximum scale rate',
    });
  });

  test('scale-down policies: percent rounds down, pods count from the start of the period', () => {
    const h = new ScalingHistory();
    const down = { policies: [{ type: 'Percent' as const, value: 50, periodSeconds: 60 }] };
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 9, desiredReplicas: 1, down }), s(0))).toMatchObject({ replicas: 4, reason: 'ScaleDownLimit' });
    const pods = { policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }] };
    const rules = { scaleUp: completeRules(undefined, defaultScaleUpRules()), scaleDown: completeRules(pods, defaultScaleDownRules(), 0) };
    h.storeScaleEvent(key, rules, 10, 8, s(0));
    // 8 now, 10 at the start of the minute: no lower than 8 until it passes.
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 8, desiredReplicas: 1, down: pods }), s(30)).replicas).toBe(8);
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 8, desiredReplicas: 1, down: pods }), s(61)).replicas).toBe(6);
  });

  test('min and max bound whatever the policies allow', () => {
    const h = new ScalingHistory();
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 3, desiredReplicas: 0, minReplicas: 2 }), s(0))).toEqual({
      replicas: 2,
      reason: 'TooFewReplicas',
      message: 'the desired replica count is less than the minimum replica count',
    });
    expect(h.convertDesiredReplicasWithBehaviorRate(args({ currentReplicas: 8, desiredReplicas: 30, maxReplicas: 10 }), s(0))).toEqual({
      replicas: 10,
      reason: 'TooManyReplicas',
      message: 'the desired replica count is more than the maximum replica count',
    });
  });

  test('forget drops what was remembered of an autoscaler', () => {
    const h = new ScalingHistory();
    h.recordInitialRecommendation(key, 9, s(0));
    h.forget(key);
    h.recordInitialRecommendation(key, 3, s(1));
    expect(h.stabilizeRecommendation(key, 1, 300_000, s(2))).toBe(3);
  });
});
