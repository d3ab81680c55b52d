/** Printer for certificates.k8s.io/v1 CertificateSigningRequests (upstream's printCertificateSigningRequest). */
import { csrConditionText, type CertificateSigningRequest } from '../../api/index.js';
import { humanDuration } from '../../machinery/index.js';
import { age, ageColumn, nameColumn, registerPrinter } from './table.js';

registerPrinter('certificates.k8s.io', 'certificatesigningrequests', {
  columns: [
    nameColumn,
    ageColumn,
    { name: 'SignerName', type: 'string', description: 'The signer the request is for.' },
    { name: 'Requestor', type: 'string', description: 'Who created the request.' },
    { name: 'RequestedDuration', type: 'string', description: 'The certificate validity asked for (spec.expirationSeconds).' },
    { name: 'Condition', type: 'string', description: 'Approved, Denied, Failed or Pending, and Issued once signed.' },
  ],
  row(o, now) {
    const csr = o as CertificateSigningRequest;
    const seconds = csr.spec?.expirationSeconds;
    return [
      csr.metadata.name,
      age(csr.metadata.creationTimestamp, now),
      csr.spec?.signerName || '<none>',
      csr.spec?.username ?? '',
      seconds === undefined || seconds === null ? '<none>' : humanDuration(seconds * 1000),
      csrConditionText(csr),
    ];
  },
});
