/**
 * Defaulting and validation of CertificateSigningRequests, after upstream's
 * pkg/apis/certificates/v1 defaults and pkg/apis/certificates/validation. Which update may
 * change what depends on the subresource: `options` says it (the registry's strategy picks).
 */
import { stableStringify, fieldPath, isDNS1123Label, isDNS1123Subdomain, type FieldError } from '../../machinery/index.js';
import { parseCSR, decodePEM } from './csr.js';
import { allKeyUsages, findCSRConditions, legacyUnknownSignerName, type CertificateSigningRequest } from './v1.js';
import crypto from 'node:crypto';

export function defaultCertificateSigningRequest(csr: CertificateSigningRequest): void {
  if (csr.spec) {
    // Upstream defaults nil usages (not an empty list) to digital signature and key encipherment.
    if (csr.spec.usages === undefined || csr.spec.usages === null) csr.spec.usages = ['digital signature', 'key encipherment'];
  }
  for (const c of csr.status?.conditions ?? []) if (!c.status) c.status = 'True';
}

export interface CSRValidationOptions {
  /** The status subresource: status.certificate may be set (once). */
  allowSettingCertificate?: boolean;
  /** The approval subresource: Approved and Denied conditions may be added. */
  allowSettingApprovalConditions?: boolean;
}

/** Decodes spec.request / status.certificate (base64 in JSON) to PEM text. */
function pemOf(b64: string | undefined): string {
  return b64 ? Buffer.from(b64, 'base64').toString('latin1') : '';
}

/** Upstream's ValidateSignerName. */
export function validateSignerName(signerName: string | undefined): FieldError[] {
  const p = fieldPath('spec.signerName');
  if (!signerName) return [p.required()];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [p.invalid(signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const errs: FieldError[] = [];
  const [domain, path] = segments as [string, string];
  if (domain.length > 253) errs.push(p.tooLong(253));
  const labels = domain.split('.');
  for (const lbl of labels) {
    const es = isDNS1123Label(lbl);
    if (es.length) {
      for (const e of es) errs.push(p.invalid(domain, `validating label ${JSON.stringify(lbl)}: ${e}`));
      break;
    }
  }
  if (labels.length < 2) errs.push(p.invalid(domain, 'should be a domain with at least two segments separated by dots'));
  if (path.length > 253 + 63 + 1) errs.push(p.tooLong(253 + 63 + 1));
  for (const e of isDNS1123Subdomain(path)) errs.push(p.invalid(path, `validating path ${JSON.stringify(path)}: ${e}`));
  return errs;
}

/** Upstream's validateCertificate: zero or more CERTIFICATE blocks, each parseable. */
function certificateProblem(pem: string): string | undefined {
  if (!pem) return undefined;
  let rest = pem;
  let blocks = 0;
  for (;;) {
    const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/.exec(rest);
    if (!m) break;
    const block = decodePEM(m[0])!;
    if (block.type !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found ${JSON.stringify(block.type)}`;
    if (block.headers) return 'no PEM block headers are permitted';
    try {
      new crypto.X509Certificate(block.bytes);
    } catch (err) {
      return `x509: malformed certificate: ${(err as Error).message}`;
    }
    blocks++;
    rest = rest.slice(m.index + m[0].length);
  }
  return blocks === 0 ? 'must contain at least one CERTIFICATE PEM block' : undefined;
}

const knownUsages = new Set<string>(allKeyUsages);
const sortedUsages = [...allKeyUsages].sort();

/** Validation of a create (no `old`) or an update through the main resource, status or approval. */
export function validateCertificateSigningRequest(csr: CertificateSigningRequest, old?: CertificateSigningRequest, opts: CSRValidationOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  const spec = csr.spec ?? ({} as CertificateSigningRequest['spec']);
  try {
    parseCSR(pemOf(spec.request));
  } catch (err) {
    errs.push(fieldPath('spec.request').invalid(undefined, (err as Error).message));
  }
  const usages = spec.usages ?? [];
  if (usages.length === 0) errs.push(fieldPath('spec.usages').required());
  // Objects stored before a rule existed keep what they had (upstream's validation options).
  const oldUsages = new Set(old?.spec?.usages ?? []);
  const seen = new Set<string>();
  usages.forEach((u, i) => {
    if (!knownUsages.has(u) && !oldUsages.has(u)) errs.push(fieldPath('spec.usages').index(i).notSupported(u, sortedUsages));
    if (seen.has(u) && !(old && (old.spec?.usages ?? []).filter((x) => x === u).length > 1)) errs.push(fieldPath('spec.usages').index(i).duplicate(u));
    seen.add(u);
  });
  if (spec.signerName === legacyUnknownSignerName && old?.spec?.signerName !== legacyUnknownSignerName) {
    errs.push(fieldPath('spec.signerName').invalid(spec.signerName, 'the legacy signerName is not allowed via this API version'));
  } else {
    errs.push(...validateSignerName(spec.signerName));
  }
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds !== null && spec.expirationSeconds < 600) {
    errs.push(fieldPath('spec.expirationSeconds').invalid(spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr));
  const cert = csr.status?.certificate;
  if (cert && !(old?.status?.certificate === cert)) {
    const problem = certificateProblem(pemOf(cert));
    if (problem) errs.push(fieldPath('status.certificate').invalid('<certificate data>', problem));
  }
  if (old) errs.push(...validateUpdate(csr, old, opts));
  return errs;
}

function validateConditions(csr: CertificateSigningRequest): FieldError[] {
  const errs: FieldError[] = [];
  const p = fieldPath('status.conditions');
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  (csr.status?.conditions ?? []).forEach((c, i) => {
    if (!c.type) errs.push(p.index(i).child('type').required());
    if (!c.status) errs.push(p.index(i).child('status').required());
    else if (!['True', 'False', 'Unknown'].includes(c.status)) errs.push(p.index(i).child('status').notSupported(c.status, ['False', 'True', 'Unknown']));
    if (c.type === 'Approved' || c.type === 'Denied') {
      if (c.type === 'Approved') approved = true;
      else denied = true;
      if (approved && denied) errs.push(p.index(i).child('type').invalid(c.type, 'Approved and Denied conditions are mutually exclusive'));
      if (c.status !== 'True') errs.push(p.index(i).child('status').invalid(c.status, `${c.type} condition may not be False or Unknown`));
    }
    if (c.type && seen.has(c.type)) errs.push(p.index(i).child('type').duplicate(c.type));
    seen.add(c.type);
  });
  return errs;
}

function validateUpdate(csr: CertificateSigningRequest, old: CertificateSigningRequest, opts: CSRValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  const p = fieldPath('status.conditions');
  for (const t of ['Approved', 'Denied', 'Failed']) {
    if (findCSRConditions(csr, t).length < findCSRConditions(old, t).length) errs.push(p.forbidden(`updates may not remove a condition of type ${JSON.stringify(t)}`));
  }
  if (!opts.allowSettingApprovalConditions) {
    for (const t of ['Approved', 'Denied']) {
      const before = findCSRConditions(old, t);
      const after = findCSRConditions(csr, t);
      if (after.length > before.length) errs.push(p.forbidden(`updates may not add a condition of type ${JSON.stringify(t)}`));
      else if (after.length === before.length && stableStringify(after) !== stableStringify(before)) errs.push(p.forbidden(`updates may not modify a condition of type ${JSON.stringify(t)}`));
    }
  }
  const cert = csr.status?.certificate ?? '';
  const oldCert = old.status?.certificate ?? '';
  if (cert !== oldCert) {
    const c = fieldPath('status.certificate');
    if (!opts.allowSettingCertificate) errs.push(c.forbidden('updates may not set certificate content'));
    else if (oldCert) errs.push(c.forbidden('updates may not modify existing certificate content'));
    else if (!findCSRConditions(csr, 'Approved').length || findCSRConditions(csr, 'Denied').length) errs.push(c.forbidden('certificate may only be set once the request is approved'));
  }
  return errs;
}
