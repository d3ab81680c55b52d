/** The certificate controllers as ControllerDescriptors (upstream's csrsigning, csrapproving, csrcleaner). */
import { waitForAbort } from '../../base/index.js';
import type { ControllerDescriptor } from '../types.js';
import { CSRApprovingController, CSRCleanerController, CSRSigningController } from './controllers.js';

export const certificateControllers: ControllerDescriptor[] = [
  {
    name: 'csrsigning',
    serviceAccount: 'certificate-controller',
    enabledByDefault: true,
    create: (ctx) =>
      ctx.options.clusterSigning
        ? new CSRSigningController({
            client: ctx.client,
            informers: ctx.informers,
            caCertPEM: ctx.options.clusterSigning.certPEM,
            caKeyPEM: ctx.options.clusterSigning.keyPEM,
            durationMs: ctx.options.clusterSigning.durationMs,
            log: ctx.log,
            clock: ctx.clock,
          })
        : {
            // As upstream: without the CA files the signer does not run.
            async start(signal) {
              ctx.log.info({ controller: 'csrsigning' }, '--cluster-signing-cert-file and --cluster-signing-key-file are not set; not signing certificate requests');
              await waitForAbort(signal);
            },
          },
  },
  {
    name: 'csrapproving',
    serviceAccount: 'certificate-controller',
    enabledByDefault: true,
    create: (ctx) => new CSRApprovingController({ client: ctx.client, informers: ctx.informers, log: ctx.log, clock: ctx.clock }),
  },
  {
    name: 'csrcleaner',
    serviceAccount: 'certificate-controller',
    enabledByDefault: true,
    create: (ctx) => new CSRCleanerController({ client: ctx.client, informers: ctx.informers, workers: 1, log: ctx.log, clock: ctx.clock }),
  },
];
