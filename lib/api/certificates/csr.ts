/**
 * PKCS#10 certificate signing requests, read as upstream's x509.ParseCertificateRequest and
 * CheckSignature need them: subject (CN, O, OU), subjectAltNames from the extensionRequest
 * attribute, the public key, and a verified self-signature. A small DER reader, no more: the
 * API server validates every CSR with it, and the controllers check signer rules with it.
 */
import crypto, { type KeyObject } from 'node:crypto';

export interface ParsedCSR {
  commonName: string;
  organizations: string[];
  organizationalUnits: string[];
  dnsNames: string[];
  emailAddresses: string[];
  ipAddresses: string[];
  uris: string[];
  publicKey: KeyObject;
  /** The DER bytes of the request (what `openssl req -inform DER` reads). */
  der: Buffer;
}

interface Node {
  tag: number;
  content: Buffer;
  raw: Buffer;
}

function readNode(buf: Buffer, off: number): { node: Node; next: number } {
  if (off + 2 > buf.length) throw new Error('x509: malformed certificate request: truncated');
  const tag = buf[off]!;
  let len = buf[off + 1]!;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || off + 2 + n > buf.length) throw new Error('x509: malformed certificate request: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + 2 + i]!;
    hdr += n;
  }
  const end = off + hdr + len;
  if (end > buf.length) throw new Error('x509: malformed certificate request: truncated');
  return { node: { tag, content: buf.subarray(off + hdr, end), raw: buf.subarray(off, end) }, next: end };
}

function children(content: Buffer): Node[] {
  const out: Node[] = [];
  for (let off = 0; off < content.length; ) {
    const { node, next } = readNode(content, off);
    out.push(node);
    off = next;
  }
  return out;
}

function expect(n: Node | undefined, tag: number, what: string): Node {
  if (!n || n.tag !== tag) throw new Error(`x509: malformed certificate request: ${what}`);
  return n;
}

function oidString(b: Buffer): string {
  const parts: number[] = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

function stringValue(n: Node): string {
  if (n.tag === 0x1e) {
    // BMPString: UTF-16BE.
    const s: string[] = [];
    for (let i = 0; i + 1 < n.content.length; i += 2) s.push(String.fromCharCode(n.content.readUInt16BE(i)));
    return s.join('');
  }
  return n.content.toString(n.tag === 0x14 ? 'latin1' : 'utf8');
}

const signatureHashes: Record<string, string | null> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
};

function ipString(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/\b(?:0(?::0)+)\b/, ':').replace(/:{3,}/, '::');
}

/** The first PEM block of `pem`, with its type, or undefined. */
export function decodePEM(pem: string): { type: string; bytes: Buffer; headers: boolean } | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m) return undefined;
  const body = m[2]!;
  return { type: m[1]!, bytes: Buffer.from(body.replace(/^[^\n]*:[^\n]*\n/gm, '').replace(/\s+/g, ''), 'base64'), headers: /^[^\n]*:[^\n]*$/m.test(body) };
}

/**
 * Parses a PEM CSR as upstream's certificates ParseCSR, and checks its signature as
 * CheckSignature. Throws an Error with upstream's message when either fails.
 */
export function parseCSR(pem: string | Buffer): ParsedCSR {
  const block = decodePEM(typeof pem === 'string' ? pem : pem.toString('latin1'));
  if (!block || block.type !== 'CERTIFICATE REQUEST') throw new Error('PEM block type must be CERTIFICATE REQUEST');
  const der = block.bytes;
  const { node: root, next } = readNode(der, 0);
  if (root.tag !== 0x30 || next !== der.length) throw new Error('x509: malformed certificate request');
  const [info, alg, sig] = children(root.content);
  expect(info, 0x30, 'certificate request info');
  expect(alg, 0x30, 'signature algorithm');
  expect(sig, 0x03, 'signature');
  const [version, subject, spki, attrs] = children(info!.content);
  expect(version, 0x02, 'version');
  expect(subject, 0x30, 'subject');
  expect(spki, 0x30, 'public key');
  const out: ParsedCSR = { commonName: '', organizations: [], organizationalUnits: [], dnsNames: [], emailAddresses: [], ipAddresses: [], uris: [], publicKey: undefined as never, der };
  for (const rdn of children(subject!.content)) {
    for (const atv of children(expect(rdn, 0x31, 'subject RDN').content)) {
      const [oid, value] = children(expect(atv, 0x30, 'subject attribute').content);
      const id = oidString(expect(oid, 0x06, 'attribute type').content);
      if (!value) continue;
      if (id === '2.5.4.3') out.commonName = stringValue(value);
      else if (id === '2.5.4.10') out.organizations.push(stringValue(value));
      else if (id === '2.5.4.11') out.organizationalUnits.push(stringValue(value));
    }
  }
  if (attrs && attrs.tag === 0xa0) {
    for (const attr of children(attrs.content)) {
      const [oid, set] = children(expect(attr, 0x30, 'attribute').content);
      if (oidString(expect(oid, 0x06, 'attribute type').content) !== '1.2.840.113549.1.9.14' || !set) continue;
      for (const exts of children(set.content)) {
        for (const ext of children(expect(exts, 0x30, 'extensions').content)) {
          const parts = children(expect(ext, 0x30, 'extension').content);
          if (oidString(expect(parts[0], 0x06, 'extension id').content) !== '2.5.29.17') continue;
          const value = expect(parts[parts.length - 1], 0x04, 'extension value');
          const { node: names } = readNode(value.content, 0);
          for (const gn of children(expect(names, 0x30, 'subjectAltName').content)) {
            if (gn.tag === 0x81) out.emailAddresses.push(gn.content.toString('latin1'));
            else if (gn.tag === 0x82) out.dnsNames.push(gn.content.toString('latin1'));
            else if (gn.tag === 0x86) out.uris.push(gn.content.toString('latin1'));
            else if (gn.tag === 0x87) out.ipAddresses.push(ipString(gn.content));
          }
        }
      }
    }
  }
  try {
    out.publicKey = crypto.createPublicKey({ key: spki!.raw, format: 'der', type: 'spki' });
  } catch {
    throw new Error('x509: unsupported public key algorithm');
  }
  const algOID = oidString(expect(children(alg!.content)[0], 0x06, 'signature algorithm').content);
  if (!(algOID in signatureHashes)) throw new Error(algOID === '1.2.840.113549.1.1.5' ? 'x509: insecure algorithm SHA1-RSA' : 'x509: cannot verify signature: algorithm unimplemented');
  const signature = sig!.content.subarray(1);
  let ok = false;
  try {
    ok = crypto.verify(signatureHashes[algOID] ?? null, info!.raw, out.publicKey, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new Error(out.publicKey.asymmetricKeyType === 'ec' ? 'x509: ECDSA verification failure' : 'crypto/rsa: verification error');
  return out;
}
