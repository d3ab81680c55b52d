/**
 * What each built-in signer accepts (upstream's pkg/controller/certificates/signer and
 * pkg/apis/certificates/v1 helpers): which requests are its own, which usages and subjects
 * they may carry, and how usages become certificate extensions.
 */
import {
  kubeAPIServerClientKubeletSignerName,
  kubeAPIServerClientSignerName,
  kubeletServingSignerName,
  type ParsedCSR,
} from '../../api/index.js';

const sameSet = (a: string[], b: string[]) => new Set(a).size === new Set(b).size && b.every((x) => a.includes(x));
const listOf = (s: string[]) => `[${[...s].sort().join(' ')}]`;

const kubeletClientUsages = ['digital signature', 'key encipherment', 'client auth'];
const kubeletClientUsagesNoRSA = ['digital signature', 'client auth'];
const kubeletServingUsages = ['digital signature', 'key encipherment', 'server auth'];
const kubeletServingUsagesNoRSA = ['digital signature', 'server auth'];

/** Upstream's ValidateKubeletClientCSR: throws what is wrong. */
export function validateKubeletClientCSR(req: ParsedCSR, usages: string[]): void {
  if (req.organizations.length !== 1 || req.organizations[0] !== 'system:nodes') throw new Error('subject organization is not system:nodes');
  if (req.dnsNames.length) throw new Error('DNS subjectAltNames are not allowed');
  if (req.emailAddresses.length) throw new Error('Email subjectAltNames are not allowed');
  if (req.ipAddresses.length) throw new Error('IP subjectAltNames are not allowed');
  if (req.uris.length) throw new Error('URI subjectAltNames are not allowed');
  if (!req.commonName.startsWith('system:node:')) throw new Error('subject common name does not begin with system:node:');
  if (!sameSet(usages, kubeletClientUsages) && !sameSet(usages, kubeletClientUsagesNoRSA)) throw new Error(`usages did not match ${listOf(kubeletClientUsages)}`);
}

/** Upstream's ValidateKubeletServingCSR. */
export function validateKubeletServingCSR(req: ParsedCSR, usages: string[]): void {
  if (req.organizations.length !== 1 || req.organizations[0] !== 'system:nodes') throw new Error('subject organization is not system:nodes');
  if (!req.dnsNames.length && !req.ipAddresses.length) throw new Error('DNS or IP subjectAltName is required');
  if (req.emailAddresses.length) throw new Error('Email subjectAltNames are not allowed');
  if (req.uris.length) throw new Error('URI subjectAltNames are not allowed');
  if (!sameSet(usages, kubeletServingUsages) && !sameSet(usages, kubeletServingUsagesNoRSA)) throw new Error(`usages did not match ${listOf(kubeletServingUsages)}`);
  if (!req.commonName.startsWith('system:node:')) throw new Error('subject common name does not begin with system:node:');
}

/** Upstream's validAPIServerClientUsages. */
export function validateAPIServerClientUsages(usages: string[]): void {
  let clientAuth = false;
  for (const u of usages) {
    if (u === 'digital signature' || u === 'key encipherment') continue;
    if (u === 'client auth') clientAuth = true;
    else throw new Error(`invalid usage for client certificate: ${u}`);
  }
  if (!clientAuth) throw new Error('missing required usage for client certificate: client auth');
}

/** The signers csrsigning runs, with the check each makes of a request. */
export const builtinSigners: Readonly<Record<string, (req: ParsedCSR, usages: string[]) => void>> = {
  [kubeletServingSignerName]: validateKubeletServingCSR,
  [kubeAPIServerClientKubeletSignerName]: validateKubeletClientCSR,
  [kubeAPIServerClientSignerName]: (_req, usages) => validateAPIServerClientUsages(usages),
};

const keyUsageNames: Record<string, string> = {
  signing: 'digitalSignature',
  'digital signature': 'digitalSignature',
  'content commitment': 'nonRepudiation',
  'key encipherment': 'keyEncipherment',
  'key agreement': 'keyAgreement',
  'data encipherment': 'dataEncipherment',
  'cert sign': 'keyCertSign',
  'crl sign': 'cRLSign',
  'encipher only': 'encipherOnly',
  'decipher only': 'decipherOnly',
};
const extKeyUsageNames: Record<string, string> = {
  any: 'anyExtendedKeyUsage',
  'server auth': 'serverAuth',
  'client auth': 'clientAuth',
  'code signing': 'codeSigning',
  'email protection': 'emailProtection',
  's/mime': 'emailProtection',
  'ipsec end system': 'ipsecEndSystem',
  'ipsec tunnel': 'ipsecTunnel',
  'ipsec user': 'ipsecUser',
  timestamping: 'timeStamping',
  'ocsp signing': 'OCSPSigning',
  'microsoft sgc': 'msSGC',
  'netscape sgc': 'nsSGC',
};

/** Upstream's keyUsagesFromStrings, in openssl's names. */
export function opensslUsages(usages: string[]): { keyUsages: string[]; extKeyUsages: string[] } {
  const keyUsages = new Set<string>();
  const extKeyUsages = new Set<string>();
  const unknown: string[] = [];
  for (const u of usages) {
    if (keyUsageNames[u]) keyUsages.add(keyUsageNames[u]);
    else if (extKeyUsageNames[u]) extKeyUsages.add(extKeyUsageNames[u]);
    else unknown.push(u);
  }
  if (unknown.length) throw new Error(`unrecognized usage values: ${JSON.stringify(unknown)}`);
  return { keyUsages: [...keyUsages], extKeyUsages: [...extKeyUsages] };
}

const backdateMs = 5 * 60_000;
const shortMs = 8 * 3600_000;

/**
 * The validity of an issued certificate (upstream's duration() and PermissiveSigningPolicy):
 * the signer's duration, capped by spec.expirationSeconds (at least 10 minutes); notBefore is
 * backdated 5 minutes for clock skew, and so is notAfter unless the duration is short (< 8h);
 * never past the CA's own expiry.
 */
export function certificateValidity(now: number, signerDurationMs: number, expirationSeconds: number | undefined | null, caNotAfter: number): { notBefore: Date; notAfter: Date } {
  let ttl = signerDurationMs;
  if (expirationSeconds !== undefined && expirationSeconds !== null) ttl = Math.min(ttl, Math.max(expirationSeconds, 600) * 1000);
  const notBefore = now - backdateMs;
  let notAfter = ttl < shortMs ? now + ttl : notBefore + ttl;
  if (notAfter > caNotAfter) notAfter = caNotAfter;
  return { notBefore: new Date(notBefore), notAfter: new Date(notAfter) };
}

/** subjectAltName entries of the request, as openssl writes them (the signer copies only these). */
export function opensslSubjectAltNames(req: ParsedCSR): string[] {
  return [...req.dnsNames.map((d) => `DNS:${d}`), ...req.ipAddresses.map((i) => `IP:${i}`), ...req.emailAddresses.map((e) => `email:${e}`), ...req.uris.map((u) => `URI:${u}`)];
}
