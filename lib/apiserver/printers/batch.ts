/** Printers for batch/v1 kinds: Jobs and CronJobs, with the columns kubectl 1.32 shows. */
import type { Job, CronJob } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter, humanDuration, formatSelector, containerCells, type Column } from './table.js';

const containersColumn: Column = { name: 'Containers', type: 'string', priority: 1, description: 'Names of the containers of the pod template.' };
const imagesColumn: Column = { name: 'Images', type: 'string', priority: 1, description: 'Images of the containers of the pod template.' };
const selectorColumn: Column = { name: 'Selector', type: 'string', priority: 1, description: 'Label selector of the pods.' };

/**
 * The STATUS of a job: a final Complete or Failed condition wins, then Terminating (being
 * deleted), then Suspended, FailureTarget and SuccessCriteriaMet; otherwise Running.
 */
export function jobStatus(job: Job): string {
  const is = (type: string) => (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
  if (is('Complete')) return 'Complete';
  if (is('Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (is('Suspended')) return 'Suspended';
  if (is('FailureTarget')) return 'FailureTarget';
  if (is('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

/** COMPLETIONS: succeeded/completions, or `n/1 of <parallelism>` for work-queue jobs. */
export function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** DURATION: from start to completion, or to now while running; empty before it starts. */
export function jobDuration(job: Job, now: number): string {
  const start = job.status?.startTime;
  if (!start) return '';
  const end = job.status?.completionTime;
  return humanDuration((end ? Date.parse(end) : now) - Date.parse(start));
}

registerPrinter('batch', 'jobs', {
  columns: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'Where the job stands: Running, Complete, Failed, Suspended, Terminating...' },
    { name: 'Completions', type: 'string', description: 'Successful pods out of those needed.' },
    { name: 'Duration', type: 'string', description: 'How long the job ran, or has been running.' },
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row(o, now) {
    const job = o as Job;
    const [names, images] = containerCells(job.spec?.template?.spec);
    return [job.metadata.name, jobStatus(job), jobCompletions(job), jobDuration(job, now), age(job.metadata.creationTimestamp, now), names, images, formatSelector(job.spec?.selector)];
  },
});

registerPrinter('batch', 'cronjobs', {
  columns: [
    nameColumn,
    { name: 'Schedule', type: 'string', description: 'Cron schedule.' },
    { name: 'Timezone', type: 'string', description: 'Time zone of the schedule.' },
    { name: 'Suspend', type: 'boolean', description: 'Whether future runs are suspended.' },
    { name: 'Active', type: 'integer', description: 'Jobs running now.' },
    { name: 'Last Schedule', type: 'string', description: 'Time since a job was last scheduled.' },
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  row(o, now) {
    const cj = o as CronJob;
    const spec = cj.spec;
    const jobSpec = spec?.jobTemplate?.spec;
    const [names, images] = containerCells(jobSpec?.template?.spec);
    const suspend = spec?.suspend === undefined ? '<unset>' : spec.suspend ? 'True' : 'False';
    const last = cj.status?.lastScheduleTime ? age(cj.status.lastScheduleTime, now) : '<none>';
    return [cj.metadata.name, spec?.schedule ?? '', spec?.timeZone ?? '<none>', suspend, (cj.status?.active ?? []).length, last, age(cj.metadata.creationTimestamp, now), names, images, formatSelector(jobSpec?.selector)];
  },
});
