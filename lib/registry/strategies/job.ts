/** Jobs: unless manualSelector, the server picks the selector and labels the template with it. */
import type { Job } from '../../api/index.js';
import type { Strategy } from '../strategy.js';

export const jobStrategy: Strategy = {
  prepareForCreate(obj) {
    const job = obj as Job;
    const spec = job.spec;
    if (!spec || spec.manualSelector) return;
    const uid = job.metadata.uid!;
    const name = job.metadata.name ?? '';
    spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    spec.template.metadata ??= {};
    spec.template.metadata.labels = {
      ...(spec.template.metadata.labels ?? {}),
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
      'controller-uid': uid,
      'job-name': name,
    };
  },
};
