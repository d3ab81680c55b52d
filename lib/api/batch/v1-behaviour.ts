/** Defaulting and validation for batch/v1 Jobs and CronJobs. */
import { fieldPath, jsonEqual, type FieldError } from '../../machinery/index.js';
import { defaultPodSpec } from '../core/v1-defaults.js';
import { validateSelectorAndTemplate } from '../apps/v1-validation.js';
import type { CronJob, Job } from './v1.js';

type JobSpec = NonNullable<Job['spec']>;

function defaultJobSpec(spec: JobSpec) {
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.manualSelector ??= undefined;
  spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

export function defaultJob(job: Job) {
  if (job.spec) defaultJobSpec(job.spec);
}

export function defaultCronJob(cj: CronJob) {
  const spec = cj.spec;
  if (!spec) return;
  spec.concurrencyPolicy ??= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  if (spec.jobTemplate?.spec) {
    // CronJob templates leave completions/parallelism unset until a Job is made from them.
    if (spec.jobTemplate.spec.template?.spec) defaultPodSpec(spec.jobTemplate.spec.template.spec);
    spec.jobTemplate.spec.backoffLimit ??= 6;
  }
}

export function validateJob(job: Job, old?: Job): FieldError[] {
  const p = fieldPath('spec');
  if (!job.spec) return [p.required()];
  const errs = validateSelectorAndTemplate(job.spec.selector, job.spec.template, p, { allowedRestartPolicies: ['OnFailure', 'Never'] });
  if (job.spec.template?.spec && !job.spec.template.spec.restartPolicy) errs.push(p.child('template.spec.restartPolicy').required());
  for (const f of ['parallelism', 'completions', 'backoffLimit'] as const) {
    const v = job.spec[f];
    if (v !== undefined && v < 0) errs.push(p.child(f).invalid(v, 'must be greater than or equal to 0'));
  }
  if (job.spec.activeDeadlineSeconds !== undefined && job.spec.activeDeadlineSeconds <= 0)
    errs.push(p.child('activeDeadlineSeconds').invalid(job.spec.activeDeadlineSeconds, 'must be greater than 0'));
  if (old) {
    if (!jsonEqual(old.spec?.selector, job.spec.selector)) errs.push(p.child('selector').invalid(job.spec.selector, 'field is immutable'));
    if (old.spec?.completions !== job.spec.completions && old.spec?.completionMode !== 'Indexed') errs.push(p.child('completions').invalid(job.spec.completions, 'field is immutable'));
    if (!jsonEqual(old.spec?.template, job.spec.template) && !old.spec?.suspend)
      errs.push(p.child('template').invalid('', 'field is immutable'));
  }
  return errs;
}

const cronField = /^(\*|\?|[0-9A-Za-z,\-*/]+)$/;

/** Checks the five-field cron syntax (or a @macro). */
export function validateCronSchedule(s: string): string | undefined {
  const t = s.trim();
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(t)) return undefined;
  if (/^@every\s/.test(t)) return undefined;
  const withoutTZ = t.replace(/^(CRON_)?TZ=\S+\s+/, '');
  const fields = withoutTZ.split(/\s+/);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: ${JSON.stringify(t)}`;
  for (const f of fields) if (!cronField.test(f)) return `invalid cron field ${JSON.stringify(f)}`;
  return undefined;
}

export function validateCronJob(cj: CronJob): FieldError[] {
  const p = fieldPath('spec');
  if (!cj.spec) return [p.required()];
  const errs: FieldError[] = [];
  if (!cj.spec.schedule) errs.push(p.child('schedule').required());
  else {
    const m = validateCronSchedule(cj.spec.schedule);
    if (m) errs.push(p.child('schedule').invalid(cj.spec.schedule, m));
  }
  const jt = cj.spec.jobTemplate?.spec;
  if (!jt) errs.push(p.child('jobTemplate.spec').required());
  else {
    const rp = jt.template?.spec?.restartPolicy;
    if (!rp || (rp !== 'OnFailure' && rp !== 'Never')) errs.push(p.child('jobTemplate.spec.template.spec.restartPolicy').notSupported(rp ?? '', ['OnFailure', 'Never']));
  }
  return errs;
}
