/**
 * The certificate controllers of the controller manager (upstream's
 * pkg/controller/certificates):
 *
 *   csrsigning    signs approved requests for the built-in signers with the cluster CA
 *                 (--cluster-signing-cert-file/--cluster-signing-key-file), or marks them
 *                 Failed (SignerValidationFailure) when the signer's rules refuse them
 *   csrapproving  approves kubelet client certificate requests whose requestor may create
 *                 certificatesigningrequests/nodeclient (or selfnodeclient for its own node),
 *                 asked through a SubjectAccessReview
 *   csrcleaner    deletes requests once done with: approved, denied or failed after 1h,
 *                 pending after 24h, issued once the certificate expired
 *
 * Each lists and watches CertificateSigningRequests through the shared informer; reconcile reads
 * the cached request and writes through the API (status or approval subresource).
 */
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import {
  csrConditionText,
  findCSRConditions,
  isCSRApproved,
  kubeAPIServerClientKubeletSignerName,
  parseCSR,
  type CertificateSigningRequest,
  type ParsedCSR,
  type SubjectAccessReview,
} from '../../api/index.js';
import { realClock, rfc3339, silentLogger, type Clock, type Runnable } from '../../base/index.js';
import { defineResourceDescriptor, Resources, waitForCacheSync, type KubeClient, type Lister, type SharedInformerFactory } from '../../client/index.js';
import { RateLimitingQueue, runWorkers, type ReconcileResult } from '../../controller/index.js';
import { isConflict, isNotFound } from '../../machinery/index.js';
import { signCertificateRequest } from '../../pki/index.js';
import { builtinSigners, certificateValidity, opensslSubjectAltNames, opensslUsages, validateKubeletClientCSR } from './signer-rules.js';

interface BaseOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  workers?: number;
  log?: Logger;
  clock?: Clock;
}

/** The shared shape: a queue of request names fed by the CSR informer, and a reconcile. */
abstract class CSRController implements Runnable {
  readonly queue: RateLimitingQueue<string>;
  protected readonly log: Logger;
  protected readonly clock: Clock;
  protected readonly csrs: Lister<CertificateSigningRequest>;
  private readonly informer: { waitForCacheSync(signal?: AbortSignal): Promise<boolean> };

  constructor(
    protected readonly base: BaseOptions,
    private readonly name: string,
  ) {
    this.log = (base.log ?? silentLogger()).child({ controller: name });
    this.clock = base.clock ?? realClock;
    this.queue = new RateLimitingQueue<string>({ clock: base.clock });
    const inf = base.informers.informerFor(Resources.certificateSigningRequests);
    this.csrs = inf.lister();
    this.informer = inf;
    const enqueue = (c: CertificateSigningRequest) => this.queue.add(c.metadata.name!);
    inf.addEventHandler({ onAdd: enqueue, onUpdate: (_o, c) => enqueue(c) });
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!(await waitForCacheSync(signal, this.informer))) return;
    this.log.info('starting');
    await runWorkers(this.queue, this.base.workers ?? 5, (key) => this.sync(key), signal, { log: this.log, name: this.name });
    this.log.info('stopped');
  }

  abstract sync(name: string): Promise<ReconcileResult>;

  protected get api() {
    return this.base.client.resource(Resources.certificateSigningRequests);
  }
}

function requestOf(csr: CertificateSigningRequest): ParsedCSR {
  return parseCSR(Buffer.from(csr.spec?.request ?? '', 'base64'));
}

export interface CSRSigningControllerOptions extends BaseOptions {
  /** PEM of --cluster-signing-cert-file and --cluster-signing-key-file. */
  caCertPEM: string;
  caKeyPEM: string;
  /** --cluster-signing-duration in ms (default 8760h). */
  durationMs?: number;
}

export class CSRSigningController extends CSRController {
  private readonly caNotAfter: number;

  constructor(private readonly o: CSRSigningControllerOptions) {
    super(o, 'csrsigning');
    this.caNotAfter = Date.parse(new crypto.X509Certificate(o.caCertPEM).validTo);
  }

  async sync(name: string): Promise<ReconcileResult> {
    const csr = this.csrs.get(name);
    if (!csr || !isCSRApproved(csr) || csr.status?.certificate || findCSRConditions(csr, 'Failed').length) return;
    const check = builtinSigners[csr.spec?.signerName ?? ''];
    if (!check) return;
    const usages = csr.spec.usages ?? [];
    let req: ParsedCSR;
    let ext: ReturnType<typeof opensslUsages>;
    try {
      req = requestOf(csr);
      check(req, usages);
      ext = opensslUsages(usages);
    } catch (err) {
      const now = rfc3339(this.clock.now());
      const failed = structuredClone(csr);
      (failed.status ??= {}).conditions = [
        ...(failed.status.conditions ?? []),
        { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: (err as Error).message, lastUpdateTime: now, lastTransitionTime: now },
      ];
      await this.write(failed);
      this.log.info({ csr: name, signer: csr.spec.signerName, reason: (err as Error).message }, 'request refused by its signer');
      return;
    }
    const now = this.clock.now();
    if (now - 5 * 60_000 >= this.caNotAfter) throw new Error(`the signer has expired: NotAfter=${new Date(this.caNotAfter).toISOString()}`);
    const validity = certificateValidity(now, this.o.durationMs ?? 8760 * 3600_000, csr.spec.expirationSeconds, this.caNotAfter);
    const pem = signCertificateRequest(req.der.length ? toPEM(req.der) : '', { ...ext, subjectAltNames: opensslSubjectAltNames(req), ...validity }, this.o.caCertPEM, this.o.caKeyPEM);
    const issued = structuredClone(csr);
    (issued.status ??= {}).certificate = Buffer.from(pem).toString('base64');
    await this.write(issued);
    this.log.info({ csr: name, signer: csr.spec.signerName, notAfter: validity.notAfter.toISOString() }, 'certificate issued');
  }

  private async write(csr: CertificateSigningRequest): Promise<void> {
    try {
      await this.api.updateStatus(csr);
    } catch (err) {
      // A newer version is on its way through the informer; it will be handled then.
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}

function toPEM(der: Buffer): string {
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE REQUEST-----\n`;
}

export const subjectAccessReviews = defineResourceDescriptor<SubjectAccessReview>({ group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false });

const recognizers = [
  {
    subresource: 'selfnodeclient',
    message: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
    recognize: (csr: CertificateSigningRequest, req: ParsedCSR) => isNodeClientCert(csr, req) && csr.spec.username === req.commonName,
  },
  {
    subresource: 'nodeclient',
    message: 'Auto approving kubelet client certificate after SubjectAccessReview.',
    recognize: (csr: CertificateSigningRequest, req: ParsedCSR) => isNodeClientCert(csr, req),
  },
];

function isNodeClientCert(csr: CertificateSigningRequest, req: ParsedCSR): boolean {
  if (csr.spec.signerName !== kubeAPIServerClientKubeletSignerName) return false;
  try {
    validateKubeletClientCSR(req, csr.spec.usages ?? []);
    return true;
  } catch {
    return false;
  }
}

export class CSRApprovingController extends CSRController {
  constructor(o: BaseOptions) {
    super(o, 'csrapproving');
  }

  async sync(name: string): Promise<ReconcileResult> {
    const csr = this.csrs.get(name);
    if (!csr || csr.status?.certificate || findCSRConditions(csr, 'Approved').length || findCSRConditions(csr, 'Denied').length) return;
    let req: ParsedCSR;
    try {
      req = requestOf(csr);
    } catch {
      return; // unparseable: never ours to approve
    }
    for (const r of recognizers) {
      if (!r.recognize(csr, req)) continue;
      if (!(await this.authorized(csr, r.subresource))) continue;
      const now = rfc3339(this.clock.now());
      const approved = structuredClone(csr);
      (approved.status ??= {}).conditions = [...(approved.status.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message: r.message, lastUpdateTime: now, lastTransitionTime: now }];
      try {
        await this.api.updateSubresource(name, 'approval', approved);
      } catch (err) {
        if (isNotFound(err) || isConflict(err)) return;
        throw err;
      }
      this.log.info({ csr: name, requestor: csr.spec.username }, 'kubelet client certificate request approved');
      return;
    }
  }

  private async authorized(csr: CertificateSigningRequest, subresource: string): Promise<boolean> {
    const review: SubjectAccessReview = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      metadata: {},
      spec: {
        user: csr.spec.username,
        uid: csr.spec.uid,
        groups: csr.spec.groups,
        extra: csr.spec.extra,
        resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource, version: '*' },
      },
    } as SubjectAccessReview;
    const out = await this.base.client.resource(subjectAccessReviews).create(review);
    return out.status?.allowed === true;
  }
}

const pendingExpirationMs = 24 * 3600_000;
const doneExpirationMs = 3600_000;

/** When a request may be deleted (upstream's csrcleaner rules), in ms since the epoch. */
export function csrDeadline(csr: CertificateSigningRequest): number {
  const deadlines: number[] = [];
  const cert = csr.status?.certificate;
  if (cert) {
    try {
      const pem = Buffer.from(cert, 'base64').toString('latin1');
      deadlines.push(Date.parse(new crypto.X509Certificate(pem).validTo));
    } catch {
      /* not a certificate we can read: the other rules decide */
    }
  }
  for (const type of ['Approved', 'Denied', 'Failed']) {
    for (const c of findCSRConditions(csr, type)) {
      const t = Date.parse(c.lastUpdateTime ?? c.lastTransitionTime ?? '');
      if (!Number.isNaN(t)) deadlines.push(t + doneExpirationMs);
    }
  }
  if (!csr.status?.conditions?.length) deadlines.push(Date.parse(csr.metadata.creationTimestamp ?? '') + pendingExpirationMs);
  const valid = deadlines.filter((d) => !Number.isNaN(d));
  return valid.length ? Math.min(...valid) : Number.POSITIVE_INFINITY;
}

export class CSRCleanerController extends CSRController {
  constructor(o: BaseOptions) {
    super(o, 'csrcleaner');
  }

  async sync(name: string): Promise<ReconcileResult> {
    const csr = this.csrs.get(name);
    if (!csr) return;
    const left = csrDeadline(csr) - this.clock.now();
    if (left === Number.POSITIVE_INFINITY) return;
    // Checked again at the deadline (upstream polls every hour).
    if (left > 0) return { requeueAfterMs: Math.min(left, 3600_000) };
    try {
      await this.api.delete(name, { preconditions: { uid: csr.metadata.uid } });
      this.log.info({ csr: name, condition: csrConditionText(csr) }, 'cleaned up certificate signing request');
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
