/**
 * The certificates admission plugins, upstream's defaults (plugin/pkg/admission/certificates):
 *
 *   CertificateApproval            an update of certificatesigningrequests/approval needs the
 *                                  `approve` verb on signers (certificates.k8s.io) named by the
 *                                  request's signerName, or `<domain>/*`
 *   CertificateSigning             a status update that changes status.certificate needs `sign`
 *                                  on the signer, likewise
 *   CertificateSubjectRestriction  no kubernetes.io/kube-apiserver-client request for the
 *                                  system:masters group
 */
import { parseCSR, kubeAPIServerClientSignerName, type CertificateSigningRequest } from '../../api/index.js';
import { newForbidden } from '../../machinery/index.js';
import type { AdmissionAttributes, UserInfo } from '../../registry/index.js';
import type { Authorizer } from '../auth.js';
import type { AdmissionPlugin } from './chain.js';

const gr = { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' };

function isCSR(a: AdmissionAttributes): boolean {
  return a.group === gr.group && a.resource === gr.resource;
}

/** Upstream's IsAuthorizedForSignerName: the exact signer name, then `<domain>/*`. */
export async function isAuthorizedForSignerName(authorizer: Authorizer, user: UserInfo, verb: string, signerName: string): Promise<boolean> {
  const attrs = (name: string) => ({ user, verb, isResourceRequest: true, path: '', namespace: '', apiGroup: gr.group, apiVersion: '*', resource: 'signers', subresource: '', name });
  if ((await authorizer.authorize(attrs(signerName))).decision === 'allow') return true;
  const slash = signerName.indexOf('/');
  return slash >= 0 && (await authorizer.authorize(attrs(`${signerName.slice(0, slash)}/*`))).decision === 'allow';
}

export function certificateApproval(authorizer: Authorizer): AdmissionPlugin {
  return {
    name: 'CertificateApproval',
    async validate(a) {
      if (!isCSR(a) || a.subresource !== 'approval' || a.operation !== 'UPDATE') return;
      const signer = (a.oldObject as CertificateSigningRequest | undefined)?.spec?.signerName ?? (a.object as CertificateSigningRequest).spec?.signerName ?? '';
      if (!(await isAuthorizedForSignerName(authorizer, a.user, 'approve', signer))) {
        throw newForbidden(gr, a.name, `user not permitted to approve requests with signerName ${JSON.stringify(signer)}`);
      }
    },
  };
}

export function certificateSigning(authorizer: Authorizer): AdmissionPlugin {
  return {
    name: 'CertificateSigning',
    async validate(a) {
      if (!isCSR(a) || a.subresource !== 'status' || a.operation !== 'UPDATE') return;
      const csr = a.object as CertificateSigningRequest;
      const old = a.oldObject as CertificateSigningRequest | undefined;
      if ((csr.status?.certificate ?? '') === (old?.status?.certificate ?? '')) return;
      const signer = old?.spec?.signerName ?? csr.spec?.signerName ?? '';
      if (!(await isAuthorizedForSignerName(authorizer, a.user, 'sign', signer))) {
        throw newForbidden(gr, a.name, `user not permitted to sign requests with signerName ${JSON.stringify(signer)}`);
      }
    },
  };
}

export function certificateSubjectRestriction(): AdmissionPlugin {
  return {
    name: 'CertificateSubjectRestriction',
    async validate(a) {
      if (!isCSR(a) || a.subresource !== '' || a.operation !== 'CREATE') return;
      const csr = a.object as CertificateSigningRequest;
      if (csr.spec?.signerName !== kubeAPIServerClientSignerName) return;
      let orgs: string[];
      try {
        orgs = parseCSR(Buffer.from(csr.spec.request ?? '', 'base64')).organizations;
      } catch {
        return; // validation reports it
      }
      if (orgs.includes('system:masters')) {
        throw newForbidden(gr, a.name, `use of ${kubeAPIServerClientSignerName} signer with system:masters group is not allowed`);
      }
    },
  };
}
