/** Printers for admissionregistration.k8s.io/v1 webhook configurations: NAME, WEBHOOKS, AGE, as kubectl shows them. */
import type { MutatingWebhookConfiguration } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter } from './table.js';

for (const resource of ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations']) {
  registerPrinter('admissionregistration.k8s.io', resource, {
    columns: [nameColumn, { name: 'Webhooks', type: 'integer', description: 'Number of webhooks in the configuration.' }, ageColumn],
    row(o, now) {
      const c = o as MutatingWebhookConfiguration;
      return [c.metadata.name, (c.webhooks ?? []).length, age(c.metadata.creationTimestamp, now)];
    },
  });
}
