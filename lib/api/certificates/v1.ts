/** certificates.k8s.io/v1: CertificateSigningRequests. */
import { z, typeMeta, named, int32, Time, opt, req, str, atomicList, mapList, doc } from '../schema.js';
import { ObjectMetaSchema } from '../meta/v1.js';

const P = 'io.k8s.api.certificates.v1';

/** Bytes, base64 in JSON. */
const Bytes = z.string().meta({ format: 'byte' });

export const CertificateSigningRequestSpecSchema = named(
  z.object({
    request: req(Bytes, 'A PEM-encoded PKCS#10 certificate signing request ("CERTIFICATE REQUEST" block), base64 in JSON.'),
    signerName: req(z.string(), 'Who should sign the certificate: kubernetes.io/kube-apiserver-client, kubernetes.io/kube-apiserver-client-kubelet, kubernetes.io/kubelet-serving, or a custom signer.'),
    expirationSeconds: opt(int32(), 'Requested validity of the certificate, at least 600; the signer may issue a shorter one.'),
    usages: opt(atomicList(z.string(), 'Key usages requested in the certificate: "client auth", "server auth", "digital signature", "key encipherment", ...'), 'Key usages requested in the certificate.'),
    username: str('Who created the request (set by the API server).'),
    uid: str('The UID of who created the request (set by the API server).'),
    groups: opt(atomicList(z.string(), 'Groups of who created the request (set by the API server).'), 'Groups of who created the request (set by the API server).'),
    extra: opt(z.record(z.string(), z.array(z.string())), 'Extra attributes of who created the request (set by the API server).'),
  }),
  `${P}.CertificateSigningRequestSpec`,
  'The certificate request and who made it.',
);

export const CertificateSigningRequestConditionSchema = named(
  z.object({
    type: req(z.string(), 'Approved, Denied or Failed.'),
    status: req(z.string(), 'True, False or Unknown (Approved and Denied are always True).'),
    reason: str('A brief reason for the condition.'),
    message: str('A human-readable explanation.'),
    lastUpdateTime: doc(Time.optional().nullable(), 'When the condition was last updated.'),
    lastTransitionTime: doc(Time.optional().nullable(), 'When the condition last changed status.'),
  }),
  `${P}.CertificateSigningRequestCondition`,
  'One condition of a certificate signing request.',
);

export const CertificateSigningRequestStatusSchema = named(
  z.object({
    conditions: opt(mapList(CertificateSigningRequestConditionSchema, ['type'], 'Approved, Denied and Failed.'), 'Approved, Denied and Failed.'),
    certificate: opt(Bytes, 'The issued certificate (PEM CERTIFICATE blocks), set by the signer once approved.'),
  }),
  `${P}.CertificateSigningRequestStatus`,
  'Approval state and the issued certificate.',
);

export const CertificateSigningRequestSchema = named(
  z.object({
    ...typeMeta,
    metadata: ObjectMetaSchema,
    spec: req(CertificateSigningRequestSpecSchema, 'The certificate request.'),
    status: opt(CertificateSigningRequestStatusSchema, 'Approval and the issued certificate.'),
  }),
  `${P}.CertificateSigningRequest`,
  'A request for a certificate signed by a named signer; it is approved or denied, then issued.',
);
export type CertificateSigningRequest = z.infer<typeof CertificateSigningRequestSchema>;
export type CertificateSigningRequestCondition = z.infer<typeof CertificateSigningRequestConditionSchema>;

export const kubeAPIServerClientSignerName = 'kubernetes.io/kube-apiserver-client';
export const kubeAPIServerClientKubeletSignerName = 'kubernetes.io/kube-apiserver-client-kubelet';
export const kubeletServingSignerName = 'kubernetes.io/kubelet-serving';
export const legacyUnknownSignerName = 'kubernetes.io/legacy-unknown';

/** Every key usage upstream knows. */
export const allKeyUsages = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment', 'cert sign', 'crl sign',
  'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing', 'email protection', 's/mime', 'ipsec end system',
  'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing', 'microsoft sgc', 'netscape sgc',
] as const;

export function findCSRConditions(csr: CertificateSigningRequest, type: string): CertificateSigningRequestCondition[] {
  return (csr.status?.conditions ?? []).filter((c) => c.type === type);
}

/** Approved and not denied (upstream's IsCertificateRequestApproved). */
export function isCSRApproved(csr: CertificateSigningRequest): boolean {
  const cs = csr.status?.conditions ?? [];
  return cs.some((c) => c.type === 'Approved') && !cs.some((c) => c.type === 'Denied');
}

/** What `kubectl get csr` prints in CONDITION (upstream's extractCSRStatus): Approved,Issued / Pending / Denied / Approved,Failed. */
export function csrConditionText(csr: CertificateSigningRequest): string {
  const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
  let s = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) s += ',Failed';
  if (csr.status?.certificate) s += ',Issued';
  return s;
}
