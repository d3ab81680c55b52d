/** batch/v1: Jobs and CronJobs. */
import { z, doc, named, int32, int64, Time } from '../schema.js';
import { ObjectMetaSchema, LabelSelectorSchema } from '../meta/v1.js';
import { PodTemplateSpecSchema, ObjectReferenceSchema } from '../core/v1.js';

const P = 'io.k8s.api.batch.v1';
const objectBase = { apiVersion: z.string().optional(), kind: z.string().optional(), metadata: ObjectMetaSchema };

export const JobSpecSchema = named(
  z.object({
    parallelism: doc(int32().optional(), 'Pods running at once. Default 1.'),
    completions: doc(int32().optional(), 'Successful pods needed. Default 1.'),
    activeDeadlineSeconds: doc(int64().optional(), 'Seconds the job may run before it is failed.'),
    podFailurePolicy: z.object({}).loose().optional(),
    successPolicy: z.object({}).loose().optional(),
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
