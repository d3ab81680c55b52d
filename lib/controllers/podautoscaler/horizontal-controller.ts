/**
 * The horizontal pod autoscaler controller (upstream's pkg/controller/podautoscaler, the
 * `horizontalpodautoscaling` controller of kube-controller-manager). Every sync period, for
 * each autoscaler:
 *
 *   GET the target's /scale ──✗──► AbleToScale=False FailedGetScale
 *        │ spec.replicas 0 ─────────► ScalingActive=False ScalingDisabled (left alone)
 *        │ outside [min, max] ──────► min or max
 *        ▼
 *   one proposal per metric (replica calculator), the largest wins ──✗ all──► ScalingActive=False
 *        ▼
 *   stabilization, rate limits, [min, max] (normalization.ts)
 *        ▼
 *   PUT /scale if the count changes (event SuccessfulRescale), then the status subresource
 *   (currentMetrics, conditions, replicas), written only when it changed.
 *
 * An autoscaler is synced when it is added or its spec changes, then again one sync period
 * after each sync, whatever happened (errors included: the next sync is the retry). Its own
 * status writes do not trigger a sync, so each autoscaler is measured once per period.
 */
import type { Logger } from 'pino';
import type { HorizontalPodAutoscaler, Pod, Scale } from '../../api/index.js';
import { realClock, rfc3339, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import {
  Resources,
  deepCopy,
  deletedObject,
  splitMetaNamespaceKey,
  type EventRecorder,
  type KubeClient,
  type ResourceDescriptor,
  type SharedInformer,
  type SharedInformerFactory,
} from '../../client/index.js';
import { RateLimitingQueue, type ReconcileResult } from '../../controller/index.js';
import { LabelSelector, jsonEqual, labelSelectorFromObject, parseLabelSelector } from '../../machinery/index.js';
import { errorMessage, objectKey, recordEvent, runController } from '../replicaset/index.js';
import type { ResourceDiscovery } from '../types.js';
import { MetricsClient } from './metrics-client.js';
import { MetricsAPISource, type MetricsSource } from './metrics-source.js';
import { ScalingHistory, completeRules, convertDesiredReplicasWithRules, defaultScaleDownRules, defaultScaleUpRules, type NormalizationArgs } from './normalization.js';
import { formatMilli, toMilli } from './quantity.js';
import { ReplicaCalculator } from './replica-calculator.js';
import { APIScaleClient, type ScaleClient } from './scale-client.js';

type HPA = HorizontalPodAutoscaler;
type HPASpec = NonNullable<HPA['spec']>;
type HPAStatus = NonNullable<HPA['status']>;
type Condition = NonNullable<HPAStatus['conditions']>[number];
type MetricSpec = NonNullable<HPASpec['metrics']>[number];
type MetricStatus = NonNullable<HPAStatus['currentMetrics']>[number];
type MetricTarget = NonNullable<MetricSpec['resource']>['target'];
type MetricValueStatus = NonNullable<MetricStatus['resource']>['current'];

const kind = 'HorizontalPodAutoscaler';
const apiVersion = 'autoscaling/v2';

/** autoscaling/v2 HorizontalPodAutoscalers, the version the controller reads and writes. */
export const horizontalPodAutoscalers = Resources.horizontalPodAutoscalers;

/** Upstream's flag defaults. */
export const hpaDefaults = Object.freeze({
  syncPeriodMs: 15_000,
  tolerance: 0.1,
  downscaleStabilizationWindowMs: 5 * 60_000,
  cpuInitializationPeriodMs: 5 * 60_000,
  initialReadinessDelayMs: 30_000,
  workers: 5,
});

export interface HorizontalControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  recorder: EventRecorder;
  log?: Logger;
  clock?: Clock;
  /** --concurrent-horizontal-pod-autoscaler-syncs (5). */
  workers?: number;
  /** Where metrics come from (default: the API server's metrics.k8s.io; no custom or external metrics). */
  metrics?: MetricsSource;
  /** How targets are scaled (default: their scale subresource through `client`). */
  scales?: ScaleClient;
  /** Finds custom resources named by scaleTargetRef (the default scale client's fallback). */
  discovery?: ResourceDiscovery;
  /** --horizontal-pod-autoscaler-sync-period (15s). */
  syncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-tolerance (0.1). */
  tolerance?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (5m). */
  downscaleStabilizationWindowMs?: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5m). */
  cpuInitializationPeriodMs?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30s). */
  initialReadinessDelayMs?: number;
}

/** One metric's outcome: a proposal, or the condition and error of its failure. */
type MetricOutcome = { ok: true; replicas: number; metric: string; timestamp: number; status: MetricStatus } | { ok: false; condition: Condition; error: Error };

export class HorizontalController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly hpaInformer: SharedInformer<HPA>;
  private readonly podInformer: SharedInformer<Pod>;
  private readonly scales: ScaleClient;
  private readonly calc: ReplicaCalculator;
  private readonly history = new ScalingHistory();
  /** The pod selector of each autoscaler as last synced (nothing before), to find autoscalers fighting over pods. */
  private readonly selectors = new Map<string, LabelSelector>();
  private readonly syncPeriodMs: number;
  private readonly downscaleStabilizationWindowMs: number;

  constructor(private readonly o: HorizontalControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? silentLogger();
    this.queue = new RateLimitingQueue<string>({ clock: this.clock });
    this.hpaInformer = o.informers.informerFor(horizontalPodAutoscalers);
    this.podInformer = o.informers.informerFor(Resources.pods);
    this.scales = o.scales ?? new APIScaleClient(o.client, o.discovery);
    this.syncPeriodMs = o.syncPeriodMs ?? hpaDefaults.syncPeriodMs;
    this.downscaleStabilizationWindowMs = o.downscaleStabilizationWindowMs ?? hpaDefaults.downscaleStabilizationWindowMs;
    this.calc = new ReplicaCalculator({
      metrics: new MetricsClient(o.metrics ?? new MetricsAPISource(o.client)),
      listPods: (ns, selector) => this.podInformer.lister().namespace(ns).list(selector),
      tolerance: o.tolerance ?? hpaDefaults.tolerance,
      cpuInitializationPeriodMs: o.cpuInitializationPeriodMs ?? hpaDefaults.cpuInitializationPeriodMs,
      delayOfInitialReadinessStatusMs: o.initialReadinessDelayMs ?? hpaDefaults.initialReadinessDelayMs,
      clock: this.clock,
    });
  }

  start(signal: AbortSignal): Promise<void> {
    return runController(signal, {
      name: 'horizontalpodautoscaling',
      log: this.log,
      queue: this.queue,
      workers: this.o.workers ?? hpaDefaults.workers,
      informers: [this.hpaInformer, this.podInformer],
      reconcile: (key, s) => this.sync(key, s),
      register: () => [
        this.hpaInformer.addEventHandler({
          onAdd: (hpa) => this.enqueue(hpa),
          // Status writes (ours among them) wait for the next period; spec changes are synced now.
          onUpdate: (old, cur) => {
            if (old.metadata.generation !== cur.metadata.generation) this.enqueue(cur);
          },
          onDelete: (hpa) => this.selectors.delete(objectKey(deletedObject(hpa))),
        }),
      ],
    });
  }

  private enqueue(hpa: HPA): void {
    const key = objectKey(hpa);
    this.queue.add(key);
    // Registered with no selector until its first sync reads the target's.
    if (!this.selectors.has(key)) this.selectors.set(key, LabelSelector.nothing());
  }

  /** Syncs one autoscaler; whatever the outcome, the next sync is one period away (upstream's fixed-interval queue). */
  async sync(key: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const hpa = this.hpaInformer.lister().namespace(namespace ?? '').get(name);
    if (!hpa) {
      this.log.info({ hpa: key }, 'horizontal pod autoscaler has been deleted');
      this.history.forget(key);
      this.selectors.delete(key);
      return;
    }
    try {
      await this.reconcileAutoscaler(hpa, key, signal);
    } catch (err) {
      this.log.info({ hpa: key, err: errorMessage(err) }, 'failed to sync horizontal pod autoscaler');
    }
    return { requeueAfterMs: this.syncPeriodMs };
  }

  private event(hpa: HPA, type: 'Normal' | 'Warning', reason: string, message: string): void {
    recordEvent(this.o.recorder, hpa, apiVersion, kind, type, reason, message);
  }

  /** upstream reconcileAutoscaler. Throws what went wrong, after writing what the status should say about it. */
  private async reconcileAutoscaler(shared: HPA, key: string, signal?: AbortSignal): Promise<void> {
    // Never mutate the informer's copy.
    const hpa = deepCopy(shared);
    const spec = hpa.spec;
    if (!spec) return;
    hpa.status ??= { desiredReplicas: 0 };
    const original = deepCopy(shared.status);
    const ns = hpa.metadata.namespace ?? '';
    const ref = spec.scaleTargetRef;
    const reference = `${ref.kind}/${ns}/${ref.name}`;

    let scale: Scale;
    let resource: ResourceDescriptor;
    try {
      ({ scale, resource } = await this.scales.get(ns, ref, signal));
    } catch (err) {
      this.event(hpa, 'Warning', 'FailedGetScale', errorMessage(err));
      this.setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${errorMessage(err)}`);
      await this.updateStatusIfNeeded(original, hpa).catch((e) => this.log.info({ hpa: key, err: errorMessage(e) }, 'failed to update status'));
      throw new Error(`failed to query scale subresource for ${reference}: ${errorMessage(err)}`, { cause: err });
    }
    this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const currentReplicas = scale.spec?.replicas ?? 0;
    this.history.recordInitialRecommendation(key, currentReplicas, this.clock.now());

    const minReplicas = spec.minReplicas ?? 1;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let rescale = true;
    let metricStatuses: MetricStatus[] | undefined;
    let partialError: Error | undefined;

    if (currentReplicas === 0 && minReplicas !== 0) {
      // Someone scaled the target to zero: autoscaling stays off until they scale it up again.
      desiredReplicas = 0;
      rescale = false;
      this.setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (currentReplicas > spec.maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = spec.maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, key, scale, metricSpecsOf(spec), signal);
      metricStatuses = computed.statuses;
      if (computed.replicas === -1) {
        // Nothing to go by: say so, and leave the target alone.
        this.setStatus(hpa, currentReplicas, hpa.status.desiredReplicas, metricStatuses, false);
        await this.updateStatusIfNeeded(original, hpa).catch((e) => this.log.info({ hpa: key, err: errorMessage(e) }, 'failed to update status'));
        const message = errorMessage(computed.error);
        this.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', message);
        throw new Error(`failed to compute desired number of replicas based on listed metrics for ${reference}: ${message}`, { cause: computed.error });
      }
      // Some metrics failed but the others ask for more: scale, and report the failure after.
      partialError = computed.error;
      this.log.debug({ hpa: key, desiredReplicas: computed.replicas, metric: computed.metric, scaleTarget: reference }, 'proposing desired replicas');

      let rescaleMetric = '';
      if (computed.replicas > desiredReplicas) {
        desiredReplicas = computed.replicas;
        rescaleMetric = computed.metric;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      desiredReplicas = spec.behavior ? this.normalizeDesiredReplicasWithBehaviors(hpa, key, currentReplicas, desiredReplicas, minReplicas) : this.normalizeDesiredReplicas(hpa, key, currentReplicas, desiredReplicas, minReplicas);
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.scales.update(ns, resource, { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } }, signal);
      } catch (err) {
        // A conflict (the target changed since it was read) is retried at the next sync, as any failure.
        this.event(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${errorMessage(err)}`);
        this.setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${errorMessage(err)}`);
        this.setStatus(hpa, currentReplicas, hpa.status.desiredReplicas, metricStatuses, false);
        await this.updateStatusIfNeeded(original, hpa).catch((e) => this.log.info({ hpa: key, err: errorMessage(e) }, 'failed to update status'));
        throw new Error(`failed to rescale ${reference}: ${errorMessage(err)}`, { cause: err });
      }
      this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`);
      this.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      this.history.storeScaleEvent(key, spec.behavior ? this.rulesOf(spec) : undefined, currentReplicas, desiredReplicas, this.clock.now());
      this.log.info({ hpa: key, currentReplicas, desiredReplicas, reason: rescaleReason }, 'successfully rescaled');
    } else {
      this.log.debug({ hpa: key, scaleTarget: reference, desiredReplicas, lastScaleTime: hpa.status.lastScaleTime }, 'decided not to scale');
      desiredReplicas = currentReplicas;
    }

    this.setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale);
    await this.updateStatusIfNeeded(original, hpa);
    if (partialError) throw partialError;
  }

  // ---- metrics ---------------------------------------------------------------------------

  /**
   * The largest proposal of the metrics (upstream computeReplicasForMetrics). `replicas` is -1
   * when nothing can be decided: every metric failed, or some failed and the others would scale
   * down (a failed metric might have wanted more). `error` names the first failure.
   */
  private async computeReplicasForMetrics(
    hpa: HPA,
    key: string,
    scale: Scale,
    metricSpecs: MetricSpec[],
    signal?: AbortSignal,
  ): Promise<{ replicas: number; metric: string; statuses?: MetricStatus[]; error?: Error }> {
    let selector: LabelSelector;
    try {
      selector = this.validateAndParseSelector(hpa, key, scale.status?.selector ?? '');
    } catch (err) {
      return { replicas: -1, metric: '', error: err as Error };
    }
    const specReplicas = scale.spec?.replicas ?? 0;
    const statusReplicas = scale.status?.replicas ?? 0;
    // A metric that fails keeps its place in the list with only its type (upstream writes an
    // empty MetricStatus there; the API's schema wants a type), so statuses still line up with specs.
    const statuses: MetricStatus[] = metricSpecs.map((m) => ({ type: m.type }));
    let replicas = 0;
    let metric = '';
    let invalidCount = 0;
    let firstInvalid: { condition: Condition; error: Error } | undefined;
    for (const [i, m] of metricSpecs.entries()) {
      const outcome = await this.computeReplicasForMetric(hpa, m, specReplicas, statusReplicas, selector, signal);
      if (!outcome.ok) {
        firstInvalid ??= outcome;
        invalidCount++;
        continue;
      }
      statuses[i] = outcome.status;
      if (replicas === 0 || outcome.replicas > replicas) {
        replicas = outcome.replicas;
        metric = outcome.metric;
      }
    }
    const error = firstInvalid ? new Error(`invalid metrics (${invalidCount} invalid out of ${metricSpecs.length}), first error is: ${firstInvalid.error.message}`, { cause: firstInvalid.error }) : undefined;
    if (firstInvalid && (invalidCount >= metricSpecs.length || replicas < specReplicas)) {
      const c = firstInvalid.condition;
      this.setCondition(hpa, c.type, c.status, c.reason ?? '', c.message ?? '');
      return { replicas: -1, metric: '', statuses, error };
    }
    this.setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metric}`);
    return { replicas, metric, statuses, error };
  }

  /**
   * The target's pod selector, refused when missing, unparsable, or selecting pods another
   * autoscaler also selects (two autoscalers would fight over one workload).
   */
  private validateAndParseSelector(hpa: HPA, key: string, text: string): LabelSelector {
    if (!text) {
      this.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      throw new Error('selector is required');
    }
    let selector: LabelSelector;
    try {
      selector = parseLabelSelector(text);
    } catch (err) {
      const message = `couldn't convert selector into a corresponding internal selector object: ${errorMessage(err)}`;
      this.event(hpa, 'Warning', 'InvalidSelector', message);
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', message);
      throw new Error(message, { cause: err });
    }
    if (this.selectors.has(key)) this.selectors.set(key, selector);
    const ns = hpa.metadata.namespace ?? '';
    const pods = this.podInformer.lister().namespace(ns).list(selector);
    const selecting: string[] = [];
    for (const [other, sel] of this.selectors) {
      if (splitMetaNamespaceKey(other).namespace !== ns) continue;
      if (pods.some((p) => sel.matches(p.metadata.labels))) selecting.push(other);
    }
    if (selecting.length > 1) {
      const list = selecting
        .sort()
        .map((k) => `{${splitMetaNamespaceKey(k).name} ${ns}}`)
        .join(' ');
      const message = `pods by selector ${text} are controlled by multiple HPAs: [${list}]`;
      this.event(hpa, 'Warning', 'AmbiguousSelector', message);
      this.setCondition(hpa, 'ScalingActive', 'False', 'AmbiguousSelector', message);
      throw new Error(message);
    }
    return selector;
  }

  /** One metric's proposal (upstream computeReplicasForMetric and the computeStatusFor* functions). */
  private async computeReplicasForMetric(hpa: HPA, m: MetricSpec, specReplicas: number, statusReplicas: number, selector: LabelSelector, signal?: AbortSignal): Promise<MetricOutcome> {
    const ns = hpa.metadata.namespace ?? '';
    const fail = (reason: string, err: unknown, wrap: (msg: string) => string): MetricOutcome => {
      const condition = this.unableToComputeReplicaCount(hpa, reason, err);
      return { ok: false, condition, error: new Error(wrap(errorMessage(err)), { cause: err }) };
    };
    switch (m.type) {
      case 'Resource':
      case 'ContainerResource': {
        const src = m.type === 'Resource' ? m.resource : m.containerResource;
        const container = m.type === 'ContainerResource' ? (m.containerResource?.container ?? '') : '';
        const reason = m.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
        const wrap = (msg: string) => (m.type === 'Resource' ? `failed to get ${src?.name} resource metric value: ${msg}` : `failed to get ${container} container metric value: ${msg}`);
        if (!src) return fail(reason, new Error(`invalid metric source: ${m.type} is not set`), wrap);
        try {
          const r = await this.computeResourceMetric(specReplicas, src.target, src.name, ns, container, selector, m.type, signal);
          const status: MetricStatus =
            m.type === 'Resource' ? { type: 'Resource', resource: { name: src.name, current: r.current } } : { type: 'ContainerResource', containerResource: { name: src.name, container, current: r.current } };
          return { ok: true, replicas: r.replicas, metric: r.metric, timestamp: r.timestamp, status };
        } catch (err) {
          return fail(reason, err, wrap);
        }
      }
      case 'Pods': {
        const src = m.pods;
        const wrap = (msg: string) => `failed to get pods metric value: ${msg}`;
        try {
          if (!src || src.target.averageValue === undefined) throw new Error('invalid pods metric source: an average value target must be set');
          const metricSelector = metricSelectorText(src.metric.selector);
          const r = await this.calc.getMetricReplicas(specReplicas, toMilli(src.target.averageValue), src.metric.name, ns, selector, metricSelector, signal);
          const status: MetricStatus = { type: 'Pods', pods: { metric: { name: src.metric.name, selector: src.metric.selector }, current: { averageValue: formatMilli(r.usage) } } };
          return { ok: true, replicas: r.replicas, metric: `pods metric ${src.metric.name}`, timestamp: r.timestamp, status };
        } catch (err) {
          return fail('FailedGetPodsMetric', err, wrap);
        }
      }
      case 'Object': {
        const src = m.object;
        const wrap = (msg: string) => `failed to get object metric value: ${msg}`;
        if (!src) return fail('FailedGetObjectMetric', new Error('invalid object metric source: object is not set'), wrap);
        const metric = { name: src.metric.name, selector: src.metric.selector };
        let metricSelector: string;
        try {
          metricSelector = metricSelectorText(src.metric.selector);
        } catch (err) {
          return fail('FailedGetObjectMetric', err, wrap);
        }
        if (src.target.type === 'Value' && src.target.value !== undefined) {
          try {
            const r = await this.calc.getObjectMetricReplicas(specReplicas, toMilli(src.target.value), src.metric.name, ns, src.describedObject, selector, metricSelector, signal);
            const status: MetricStatus = { type: 'Object', object: { describedObject: src.describedObject, metric, current: { value: formatMilli(r.usage) } } };
            return { ok: true, replicas: r.replicas, metric: `${src.describedObject.kind} metric ${src.metric.name}`, timestamp: r.timestamp, status };
          } catch (err) {
            return fail('FailedGetObjectMetric', err, wrap);
          }
        }
        if (src.target.type === 'AverageValue' && src.target.averageValue !== undefined) {
          try {
            const r = await this.calc.getObjectPerPodMetricReplicas(statusReplicas, toMilli(src.target.averageValue), src.metric.name, ns, src.describedObject, metricSelector, signal);
            const status: MetricStatus = { type: 'Object', object: { describedObject: src.describedObject, metric, current: { averageValue: formatMilli(r.usage) } } };
            // Upstream's own wording for this case.
            return { ok: true, replicas: r.replicas, metric: `external metric ${src.metric.name}(${metricSelector || '<nil>'})`, timestamp: r.timestamp, status };
          } catch (err) {
            return fail('FailedGetObjectMetric', err, (msg) => wrap(`failed to get ${src.metric.name} object metric: ${msg}`));
          }
        }
        return fail('FailedGetObjectMetric', new Error('invalid object metric source: neither a value target nor an average value target was set'), wrap);
      }
      case 'External': {
        const src = m.external;
        const wrap = (msg: string) => `failed to get ${src?.metric.name} external metric value: ${msg}`;
        if (!src) return fail('FailedGetExternalMetric', new Error('invalid external metric source: external is not set'), wrap);
        const metric = { name: src.metric.name, selector: src.metric.selector };
        let metricSelector: string;
        try {
          metricSelector = metricSelectorText(src.metric.selector);
        } catch (err) {
          return fail('FailedGetExternalMetric', err, wrap);
        }
        const described = `external metric ${src.metric.name}(${metricSelector || '<nil>'})`;
        if (src.target.averageValue !== undefined) {
          try {
            const r = await this.calc.getExternalPerPodMetricReplicas(statusReplicas, toMilli(src.target.averageValue), src.metric.name, ns, metricSelector, signal);
            return { ok: true, replicas: r.replicas, metric: described, timestamp: r.timestamp, status: { type: 'External', external: { metric, current: { averageValue: formatMilli(r.usage) } } } };
          } catch (err) {
            return fail('FailedGetExternalMetric', err, (msg) => wrap(`failed to get ${src.metric.name} external metric: ${msg}`));
          }
        }
        if (src.target.value !== undefined) {
          try {
            const r = await this.calc.getExternalMetricReplicas(specReplicas, toMilli(src.target.value), src.metric.name, ns, metricSelector, selector, signal);
            return { ok: true, replicas: r.replicas, metric: described, timestamp: r.timestamp, status: { type: 'External', external: { metric, current: { value: formatMilli(r.usage) } } } };
          } catch (err) {
            return fail('FailedGetExternalMetric', err, (msg) => wrap(`failed to get external metric ${src.metric.name}: ${msg}`));
          }
        }
        return fail('FailedGetExternalMetric', new Error('invalid external metric source: neither a value target nor an average value target was set'), wrap);
      }
      default:
        return fail('InvalidMetricSourceType', new Error(`unknown metric source type "${(m as { type: string }).type}"`), (msg) => msg);
    }
  }

  /** A Resource or ContainerResource metric against an AverageValue or a Utilization target. */
  private async computeResourceMetric(
    currentReplicas: number,
    target: MetricTarget,
    resource: string,
    ns: string,
    container: string,
    selector: LabelSelector,
    type: 'Resource' | 'ContainerResource',
    signal?: AbortSignal,
  ): Promise<{ replicas: number; current: MetricValueStatus; metric: string; timestamp: number }> {
    if (target.averageValue !== undefined) {
      let r;
      try {
        r = await this.calc.getRawResourceReplicas(currentReplicas, toMilli(target.averageValue), resource, ns, selector, container, signal);
      } catch (err) {
        throw new Error(`failed to get ${resource} usage: ${errorMessage(err)}`, { cause: err });
      }
      return { replicas: r.replicas, current: { averageValue: formatMilli(r.usage) }, metric: `${resource} resource`, timestamp: r.timestamp };
    }
    if (target.averageUtilization === undefined) throw new Error('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
    let r;
    try {
      r = await this.calc.getResourceReplicas(currentReplicas, target.averageUtilization, resource, ns, selector, container, signal);
    } catch (err) {
      throw new Error(`failed to get ${resource} utilization: ${errorMessage(err)}`, { cause: err });
    }
    const metric = type === 'ContainerResource' ? `${resource} container resource utilization (percentage of request)` : `${resource} resource utilization (percentage of request)`;
    return { replicas: r.replicas, current: { averageUtilization: r.utilization, averageValue: formatMilli(r.rawUtilization) }, metric, timestamp: r.timestamp };
  }

  /** A Warning event naming the failure, and the ScalingActive=False condition that goes with it. */
  private unableToComputeReplicaCount(hpa: HPA, reason: string, err: unknown): Condition {
    this.event(hpa, 'Warning', reason, errorMessage(err));
    return { type: 'ScalingActive', status: 'False', reason, message: `the HPA was unable to compute the replica count: ${errorMessage(err)}` };
  }

  // ---- normalization ---------------------------------------------------------------------

  /** spec.behavior with upstream's defaults filled in, the scale-down window from the flag if unset. */
  private rulesOf(spec: HPASpec): Pick<NormalizationArgs, 'scaleUp' | 'scaleDown'> {
    return {
      scaleUp: completeRules(spec.behavior?.scaleUp, defaultScaleUpRules()),
      scaleDown: completeRules(spec.behavior?.scaleDown, defaultScaleDownRules(), Math.trunc(this.downscaleStabilizationWindowMs / 1000)),
    };
  }

  /** Without spec.behavior: the flag's scale-down window, then upstream's fixed rules. */
  private normalizeDesiredReplicas(hpa: HPA, key: string, currentReplicas: number, prenormalized: number, minReplicas: number): number {
    const stabilized = this.history.stabilizeRecommendation(key, prenormalized, this.downscaleStabilizationWindowMs, this.clock.now());
    if (stabilized !== prenormalized) {
      this.setCondition(hpa, 'AbleToScale', 'True', 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation');
    } else {
      this.setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    }
    const limited = convertDesiredReplicasWithRules(currentReplicas, stabilized, minReplicas, hpa.spec!.maxReplicas);
    this.setCondition(hpa, 'ScalingLimited', limited.replicas === stabilized ? 'False' : 'True', limited.reason, limited.message);
    return limited.replicas;
  }

  /** With spec.behavior: stabilization windows, then the rate policies, then min and max. */
  private normalizeDesiredReplicasWithBehaviors(hpa: HPA, key: string, currentReplicas: number, prenormalized: number, minReplicas: number): number {
    const now = this.clock.now();
    const args: NormalizationArgs = { key, ...this.rulesOf(hpa.spec!), minReplicas, maxReplicas: hpa.spec!.maxReplicas, currentReplicas, desiredReplicas: prenormalized };
    const stabilized = this.history.stabilizeRecommendationWithBehaviors(args, now);
    if (stabilized.replicas !== prenormalized) this.setCondition(hpa, 'AbleToScale', 'True', stabilized.reason, stabilized.message);
    else this.setCondition(hpa, 'AbleToScale', 'True', 'ReadyForNewScale', 'recommended size matches current size');
    const limited = this.history.convertDesiredReplicasWithBehaviorRate({ ...args, desiredReplicas: stabilized.replicas }, now);
    this.setCondition(hpa, 'ScalingLimited', limited.replicas === stabilized.replicas ? 'False' : 'True', limited.reason, limited.message);
    return limited.replicas;
  }

  // ---- status ----------------------------------------------------------------------------

  /** Sets a condition; its lastTransitionTime moves only when its status changes. */
  private setCondition(hpa: HPA, type: string, status: Condition['status'], reason: string, message: string): void {
    hpa.status ??= { desiredReplicas: 0 };
    const list = (hpa.status.conditions ??= []);
    let c = list.find((x) => x.type === type);
    if (!c) {
      c = { type, status };
      list.push(c);
      c.lastTransitionTime = rfc3339(this.clock.now());
    } else if (c.status !== status) {
      c.lastTransitionTime = rfc3339(this.clock.now());
    }
    c.status = status;
    c.reason = reason;
    c.message = message;
  }

  /** The status of this sync: counts and metrics anew, conditions and lastScaleTime carried over. */
  private setStatus(hpa: HPA, currentReplicas: number, desiredReplicas: number, metricStatuses: MetricStatus[] | undefined, rescale: boolean): void {
    const prev = hpa.status;
    hpa.status = {
      currentReplicas,
      desiredReplicas,
      lastScaleTime: rescale ? rfc3339(this.clock.now()) : prev?.lastScaleTime,
      currentMetrics: metricStatuses,
      conditions: prev?.conditions,
    };
  }

  /** Writes the status through the status subresource, unless it is what the API already has. */
  private async updateStatusIfNeeded(original: HPAStatus | undefined, hpa: HPA): Promise<void> {
    const status = hpa.status!;
    if (jsonEqual(original, status)) return;
    try {
      await this.o.client.resource(horizontalPodAutoscalers, hpa.metadata.namespace).updateStatus(hpa);
    } catch (err) {
      this.event(hpa, 'Warning', 'FailedUpdateStatus', errorMessage(err));
      throw new Error(`failed to update status for ${hpa.metadata.name}: ${errorMessage(err)}`, { cause: err });
    }
    this.log.debug({ hpa: objectKey(hpa) }, 'successfully updated status');
  }
}

/** The metrics of a spec; none means the API's default, 80% average cpu utilization. */
function metricSpecsOf(spec: HPASpec): MetricSpec[] {
  if (spec.metrics && spec.metrics.length > 0) return spec.metrics;
  return [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
}

/** A metric's label selector as text for the metrics APIs ('' when unset). */
function metricSelectorText(sel: Parameters<typeof labelSelectorFromObject>[0]): string {
  return sel ? labelSelectorFromObject(sel).toString() : '';
}
