/** batch/v1: Jobs and CronJobs. */
import { z, doc, named, atomicList, int32, int64, Time } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema } from '../meta/v1.js';
import { PodTemplateSpecSchema, ObjectReferenceSchema } from '../core/v1.js';

const P = 'io.k8s.api.batch.v1';
const objectBase = { apiVersion: z.string().optional(), kind: z.string().optional(), metadata: ObjectMetaSchema };

export const PodFailurePolicySchema = named(
  z.object({
    rules: atomicList(
      z
        .object({
          action: doc(z.enum(['FailJob', 'FailIndex', 'Ignore', 'Count']), 'What a matching pod failure does: fail the job, fail the index, not count it, or count it (the default behaviour).'),
          onExitCodes: z
            .object({
              containerName: doc(z.string().optional(), 'Only exit codes of this container; all containers when unset.'),
              operator: doc(z.enum(['In', 'NotIn']), 'Whether the exit code must be in or outside the values.'),
              values: atomicList(int32(), 'Exit codes, at most 255 of them; 0 is not allowed with In.'),
            })
            .meta({ id: `${P}.PodFailurePolicyOnExitCodesRequirement`, description: 'Matches a failure by container exit code.' })
            .optional(),
          onPodConditions: atomicList(
            z
              .object({ type: doc(z.string(), 'Pod condition type, e.g. DisruptionTarget.'), status: doc(z.string().optional(), 'True (default), False or Unknown.') })
              .meta({ id: `${P}.PodFailurePolicyOnPodConditionsPattern`, description: 'Matches a failure by a pod condition.' }),
            'Pod conditions that match; any one is enough.',
          ).optional(),
        })
        .meta({ id: `${P}.PodFailurePolicyRule`, description: 'An action and the pod failures it applies to (by exit code or pod condition).' }),
      'Rules tried in order; the first that matches decides.',
    ),
  }),
  `${P}.PodFailurePolicy`,
  'How pod failures count towards the backoff limit.',
);

export const SuccessPolicySchema = named(
  z.object({
    rules: atomicList(
      z
        .object({
          succeededIndexes: doc(z.string().optional(), 'Indexes that must succeed, e.g. "0,2-4".'),
          succeededCount: doc(int32().optional(), 'How many (of succeededIndexes, or of all) must succeed.'),
        })
        .meta({ id: `${P}.SuccessPolicyRule`, description: 'A set of indexes that, once succeeded, make the job succeed.' }),
      'Rules ORed together; an Indexed job succeeds when one is met.',
    ),
  }),
  `${P}.SuccessPolicy`,
  'When an Indexed job may be declared succeeded before all its indexes are done.',
);

export const JobSpecSchema = named(
  z.object({
    parallelism: doc(int32().optional(), 'Pods running at once. Default 1.'),
    completions: doc(int32().optional(), 'Successful pods needed. Default 1.'),
    activeDeadlineSeconds: doc(int64().optional(), 'Seconds the job may run before it is failed.'),
    podFailurePolicy: doc(PodFailurePolicySchema.optional(), 'How pod failures count towards backoffLimit; needs restartPolicy Never.'),
    successPolicy: doc(SuccessPolicySchema.optional(), 'Lets an Indexed job succeed before all indexes are done.'),
    backoffLimit: doc(int32().optional(), 'Pod failures before the job is failed. Default 6.'),
    backoffLimitPerIndex: int32().optional(),
    maxFailedIndexes: int32().optional(),
    selector: LabelSelectorSchema.optional(),
    manualSelector: z.boolean().optional(),
    template: PodTemplateSpecSchema,
    ttlSecondsAfterFinished: doc(int32().optional(), 'Seconds after finishing before the job is deleted.'),
    completionMode: z.enum(['NonIndexed', 'Indexed']).optional(),
    suspend: z.boolean().optional(),
    podReplacementPolicy: z.enum(['TerminatingOrFailed', 'Failed']).optional(),
    managedBy: z.string().optional(),
  }),
  `${P}.JobSpec`,
  'The desired state of a job.',
);

export const JobConditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  lastProbeTime: Time.optional(),
  lastTransitionTime: Time.optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

export const JobSchema = named(
  z.object({
    ...objectBase,
    spec: JobSpecSchema.optional(),
    status: z
      .object({
        conditions: z.array(JobConditionSchema).optional(),
        startTime: Time.optional(),
        completionTime: Time.optional(),
        active: int32().optional(),
        succeeded: int32().optional(),
        failed: int32().optional(),
        terminating: int32().optional(),
        completedIndexes: z.string().optional(),
        failedIndexes: z.string().optional(),
        uncountedTerminatedPods: z.object({ succeeded: z.array(z.string()).optional(), failed: z.array(z.string()).optional() }).optional(),
        ready: int32().optional(),
      })
      .optional(),
  }),
  `${P}.Job`,
  'Runs pods until a number of them succeed.',
);
export type Job = z.infer<typeof JobSchema>;

export const CronJobSchema = named(
  z.object({
    ...objectBase,
    spec: z
      .object({
        schedule: doc(z.string(), 'Cron schedule, e.g. "*/5 * * * *".'),
        timeZone: z.string().optional(),
        startingDeadlineSeconds: int64().optional(),
        concurrencyPolicy: doc(z.enum(['Allow', 'Forbid', 'Replace']).optional(), 'Allow (default), Forbid or Replace.'),
        suspend: z.boolean().optional(),
        jobTemplate: z.object({ metadata: ObjectMetaSchema.optional(), spec: JobSpecSchema.optional() }),
        successfulJobsHistoryLimit: int32().optional(),
        failedJobsHistoryLimit: int32().optional(),
      })
      .optional(),
    status: z
      .object({ active: z.array(ObjectReferenceSchema).optional(), lastScheduleTime: Time.optional(), lastSuccessfulTime: Time.optional() })
      .optional(),
  }),
  `${P}.CronJob`,
  'Creates Jobs on a schedule.',
);
export type CronJob = z.infer<typeof CronJobSchema>;
