/**
 * certificates.k8s.io/v1 CertificateSigningRequests with the real kubectl on the secure port:
 * create, `kubectl get csr` columns, `kubectl certificate approve|deny`, signing by the
 * csrsigning controller with the cluster CA, kubelet client auto-approval, validation, what
 * the status and approval subresources may change, and the signers `approve` verb.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CertificateSigningRequest } from '../../lib/api/index.js';
import { Resources, SharedInformerFactory, type RESTClient } from '../../lib/client/index.js';
import { CSRApprovingController, CSRSigningController } from '../../lib/controllers/certificates/index.js';
import { api } from '../support/apiserver.js';
import { clientFor } from '../support/cluster.js';
import { eventually, testLogger } from '../support/controllers.js';
import { kubectls, runKubectl } from '../support/kubectl.js';
import { secureAPI, startSecureAPIServer, type SecureTestServer } from '../support/secure.js';

let s: SecureTestServer;
let client: RESTClient;
const stop = new AbortController();
const running: Promise<void>[] = [];
const k = kubectls()[kubectls().length - 1]!;
const admin = (args: string[], input?: string) => runKubectl(k, s.kubeconfigs.admin!, args, { input });
const as = (user: string, args: string[]) => runKubectl(k, s.tokenKubeconfig(user), args);
const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

/** A PEM certificate request for a new P-256 key, made by openssl. */
function makeRequest(subj: string, san?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-csr-'));
  try {
    return execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k'), '-subj', subj, ...(san ? ['-addext', `subjectAltName=${san}`] : [])], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function csrObject(name: string, subj: string, spec: Record<string, unknown> = {}): CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: Buffer.from(makeRequest(subj)).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], ...spec },
  } as CertificateSigningRequest;
}

const getCSR = async (name: string) => (await api(s.url, 'GET', `${csrPath}/${name}`)).body as CertificateSigningRequest;

beforeAll(async () => {
  s = await startSecureAPIServer();
  client = clientFor(s, 'csr-test');
  const informers = new SharedInformerFactory({ client, log: testLogger('informers') });
  const ca = (n: string) => fs.readFileSync(path.join(s.pkiDir, n), 'utf8');
  const signer = new CSRSigningController({ client, informers, caCertPEM: ca('ca.crt'), caKeyPEM: ca('ca.key'), durationMs: 24 * 3600_000, log: testLogger('csrsigning') });
  const approver = new CSRApprovingController({ client, informers, log: testLogger('csrapproving') });
  running.push(informers.start(stop.signal), signer.start(stop.signal), approver.start(stop.signal));
});
afterAll(async () => {
  stop.abort();
  await Promise.all(running);
  await s?.stop();
});

describe('kubectl and CertificateSigningRequests', () => {
  test('create, get csr columns, approve; csrsigning issues a certificate of the cluster CA with the subject, usages and duration asked for', async () => {
    const obj = csrObject('jane', '/O=devs/CN=jane', { expirationSeconds: 3600, username: 'mallory', groups: ['system:masters'] });
    const created = await admin(['create', '-f', '-'], JSON.stringify(obj));
    expect(created.stderr).toBe('');
    expect(created.stdout.trim()).toBe('certificatesigningrequest.certificates.k8s.io/jane created');
    // The requestor is who sent the request, not what the client wrote.
    const stored = await getCSR('jane');
    expect(stored.spec.username).toBe('kubernetes-admin');
    expect(stored.spec.groups).toContain('system:masters');
    expect(stored.spec.groups).toContain('system:authenticated');

    const pending = await admin(['get', 'csr']);
    const lines = pending.stdout.trim().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['NAME', 'AGE', 'SIGNERNAME', 'REQUESTOR', 'REQUESTEDDURATION', 'CONDITION']);
    expect(lines.find((l) => l.startsWith('jane'))!.split(/\s+/).slice(2)).toEqual(['kubernetes.io/kube-apiserver-client', 'kubernetes-admin', '60m', 'Pending']);

    const approved = await admin(['certificate', 'approve', 'jane']);
    expect(approved.stderr).toBe('');
    expect(approved.stdout.trim()).toBe('certificatesigningrequest.certificates.k8s.io/jane approved');
    await eventually(async () => !!(await getCSR('jane')).status?.certificate, 15_000);
    const done = await getCSR('jane');
    expect(done.status!.conditions![0]).toMatchObject({ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.' });
    expect(done.status!.conditions![0]!.lastUpdateTime).toBeTruthy();

    const cert = new crypto.X509Certificate(Buffer.from(done.status!.certificate!, 'base64'));
    const caCert = new crypto.X509Certificate(s.caPEM);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.subject.split('\n').sort()).toEqual(['CN=jane', 'O=devs']);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // client auth only
    expect(cert.ca).toBe(false);
    const span = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000;
    // One hour asked for, backdated 5 minutes (short certificates keep their whole hour ahead).
    expect(span).toBe(3600 + 300);
    expect(Date.parse(cert.validTo) - Date.now()).toBeGreaterThan(3500_000);

    const row = (await admin(['get', 'csr', 'jane', '--no-headers'])).stdout.trim().split(/\s+/);
    expect(row.at(-1)).toBe('Approved,Issued');
    const described = await admin(['describe', 'csr', 'jane']);
    expect(described.stderr).toBe('');
    expect(described.stdout).toMatch(/Requesting User:\s+kubernetes-admin/);
    expect(described.stdout).toMatch(/Signer:\s+kubernetes.io\/kube-apiserver-client/);
    expect(described.stdout).toMatch(/Status:\s+Approved,Issued/);
    expect(described.stdout).toMatch(/Common Name:\s+jane/);
  });

  test('deny: the request is Denied and never signed', async () => {
    expect((await admin(['create', '-f', '-'], JSON.stringify(csrObject('nope', '/CN=nope')))).stderr).toBe('');
    const denied = await admin(['certificate', 'deny', 'nope']);
    expect(denied.stdout.trim()).toBe('certificatesigningrequest.certificates.k8s.io/nope denied');
    const csr = await getCSR('nope');
    expect(csr.status!.conditions!.map((c) => [c.type, c.reason])).toEqual([['Denied', 'KubectlDeny']]);
    expect((await admin(['get', 'csr', 'nope', '--no-headers'])).stdout.trim().split(/\s+/).at(-1)).toBe('Denied');
    // Approving a denied request is refused (Approved and Denied exclusive).
    const again = await admin(['certificate', 'approve', 'nope']);
    expect(again.code).not.toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect((await getCSR('nope')).status?.certificate).toBeUndefined();
  });

  test('validation errors with upstream messages', async () => {
    const bad = csrObject('bad', '/CN=x', { request: Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64'), expirationSeconds: 60, signerName: 'nodomain', usages: [] });
    const r = await admin(['create', '-f', '-'], JSON.stringify(bad));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The CertificateSigningRequest "bad" is invalid');
    expect(r.stderr).toContain('spec.request: Invalid value: PEM block type must be CERTIFICATE REQUEST');
    expect(r.stderr).toContain('spec.usages: Required value');
    expect(r.stderr).toContain("spec.signerName: Invalid value: \"nodomain\": must be a fully qualified domain and path of the form 'example.com/signer-name'");
    expect(r.stderr).toContain('spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)');
    const masters = await admin(['create', '-f', '-'], JSON.stringify(csrObject('root', '/O=system:masters/CN=root')));
    expect(masters.stderr).toContain('use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed');
  });

  test('the approval subresource cannot set the certificate; status cannot approve; updates keep spec and status', async () => {
    await api(s.url, 'POST', csrPath, csrObject('sub', '/CN=sub', { signerName: 'example.com/nobody' }));
    const cur = await getCSR('sub');
    const fakeCert = Buffer.from(s.caPEM).toString('base64');
    const viaApproval = await api(s.url, 'PUT', `${csrPath}/sub/approval`, { ...cur, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'R' }], certificate: fakeCert } });
    expect(viaApproval.status).toBe(200);
    expect(viaApproval.body.status.conditions[0]).toMatchObject({ type: 'Approved', reason: 'R' });
    expect(viaApproval.body.status.certificate).toBeUndefined();
    const viaStatus = await api(s.url, 'PUT', `${csrPath}/sub/status`, { ...viaApproval.body, status: { conditions: [{ type: 'Denied', status: 'True' }, ...viaApproval.body.status.conditions] } });
    expect(viaStatus.status).toBe(422);
    expect(viaStatus.body.message).toContain('updates may not add a condition of type "Denied"');
    // Removing Approved through approval is refused too.
    const removed = await api(s.url, 'PUT', `${csrPath}/sub/approval`, { ...viaApproval.body, status: {} });
    expect(removed.status).toBe(422);
    expect(removed.body.message).toContain('updates may not remove a condition of type "Approved"');
    // The main resource changes only metadata.
    const main = await api(s.url, 'PUT', `${csrPath}/sub`, { ...viaApproval.body, metadata: { ...viaApproval.body.metadata, labels: { a: 'b' } }, spec: { ...viaApproval.body.spec, signerName: 'example.com/other' }, status: {} });
    expect(main.status).toBe(200);
    expect(main.body.metadata.labels).toEqual({ a: 'b' });
    expect(main.body.spec.signerName).toBe('example.com/nobody');
    expect(main.body.status.conditions[0].type).toBe('Approved');
    // The status subresource sets the certificate once.
    const issued = await api(s.url, 'PUT', `${csrPath}/sub/status`, { ...main.body, status: { ...main.body.status, certificate: fakeCert } });
    expect(issued.status).toBe(200);
    const again = await api(s.url, 'PUT', `${csrPath}/sub/status`, { ...issued.body, status: { ...issued.body.status, certificate: Buffer.from(s.caPEM + s.caPEM).toString('base64') } });
    expect(again.status).toBe(422);
    expect(again.body.message).toContain('updates may not modify existing certificate content');
  });

  test('approving needs the approve verb on the signer: 403 without it', async () => {
    await api(s.url, 'POST', csrPath, csrObject('guarded', '/CN=guarded', { signerName: 'example.com/team' }));
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    const role = (name: string, rules: object[]) => api(s.url, 'POST', `${rbac}/clusterroles`, { metadata: { name }, rules });
    const bind = (name: string) => api(s.url, 'POST', `${rbac}/clusterrolebindings`, { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }] });
    await role('csr-approver', [{ apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list'] }, { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] }]);
    await bind('csr-approver');
    const denied = await eventually(async () => {
      const r = await as('bob', ['certificate', 'approve', 'guarded']);
      return r.stderr.includes('user not permitted') ? r : undefined;
    });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('certificatesigningrequests.certificates.k8s.io "guarded" is forbidden: user not permitted to approve requests with signerName "example.com/team"');
    const direct = await secureAPI(s, { token: s.tokens.bob }, 'PUT', `${csrPath}/guarded/approval`, { ...(await getCSR('guarded')), status: { conditions: [{ type: 'Approved', status: 'True' }] } });
    expect(direct.status).toBe(403);
    // `<domain>/*` on signers grants it.
    await role('csr-signer-approve', [{ apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['example.com/*'], verbs: ['approve'] }]);
    await bind('csr-signer-approve');
    await eventually(async () => (await as('bob', ['certificate', 'approve', 'guarded'])).code === 0);
    expect((await getCSR('guarded')).status!.conditions![0]!.type).toBe('Approved');
  });
});

describe('kubelet certificates', () => {
  test('csrapproving approves a node client request after a SubjectAccessReview; csrsigning issues it', async () => {
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    // The bootstrap ClusterRole upstream's clusters bind to their nodes (kubeadm does).
    const role = 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient';
    expect((await api(s.url, 'GET', `${rbac}/clusterroles/${role}`)).body.rules).toEqual([{ apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/selfnodeclient'], verbs: ['create'] }]);
    const bound = await api(s.url, 'POST', `${rbac}/clusterrolebindings`, { metadata: { name: 'nodes-renew' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'system:nodes' }] });
    expect(bound.status).toBe(201);
    const obj = csrObject('node-n1', '/O=system:nodes/CN=system:node:n1', { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] });
    const r = await secureAPI(s, s.client('kubelet-n1'), 'POST', csrPath, obj);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    await eventually(async () => !!(await getCSR('node-n1')).status?.certificate, 15_000);
    const csr = await getCSR('node-n1');
    expect(csr.spec.username).toBe('system:node:n1');
    expect(csr.status!.conditions![0]).toMatchObject({ type: 'Approved', reason: 'AutoApproved', message: 'Auto approving self kubelet client certificate after SubjectAccessReview.' });
    const cert = new crypto.X509Certificate(Buffer.from(csr.status!.certificate!, 'base64'));
    expect(cert.subject.split('\n').sort()).toEqual(['CN=system:node:n1', 'O=system:nodes']);
    expect((Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000).toBe(24 * 3600);
  });

  test('a request breaking its signer rules is Failed with SignerValidationFailure', async () => {
    const obj = csrObject('not-a-node', '/O=system:nodes/CN=jane', { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] });
    expect((await api(s.url, 'POST', csrPath, obj)).status).toBe(201);
    // Not auto-approved (no SubjectAccessReview would pass for a non-node); approve by hand.
    expect((await admin(['certificate', 'approve', 'not-a-node'])).code).toBe(0);
    await eventually(async () => (await getCSR('not-a-node')).status?.conditions?.some((c) => c.type === 'Failed'), 15_000);
    const csr = await getCSR('not-a-node');
    expect(csr.status!.conditions!.find((c) => c.type === 'Failed')).toMatchObject({ status: 'True', reason: 'SignerValidationFailure', message: 'subject common name does not begin with system:node:' });
    expect(csr.status!.certificate).toBeUndefined();
    expect((await admin(['get', 'csr', 'not-a-node', '--no-headers'])).stdout.trim().split(/\s+/).at(-1)).toBe('Approved,Failed');
    const usages = csrObject('serving-bad', '/O=system:nodes/CN=system:node:n1', { signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'] });
    await api(s.url, 'POST', csrPath, usages);
    await admin(['certificate', 'approve', 'serving-bad']);
    await eventually(async () => (await getCSR('serving-bad')).status?.conditions?.some((c) => c.type === 'Failed'), 15_000);
    expect((await getCSR('serving-bad')).status!.conditions!.find((c) => c.type === 'Failed')!.message).toBe('DNS or IP subjectAltName is required');
  });
});

test('discovery lists csr with its subresources', async () => {
  const r = await admin(['api-resources', '--api-group=certificates.k8s.io', '--no-headers']);
  expect(r.stdout.trim().split(/\s+/)).toEqual(['certificatesigningrequests', 'csr', 'certificates.k8s.io/v1', 'false', 'CertificateSigningRequest']);
  void Resources;
});
