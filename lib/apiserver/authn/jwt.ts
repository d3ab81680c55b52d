/**
 * JSON Web Tokens with Node's crypto: compact JWS signing and verification for the algorithms
 * service account keys use (RS256/384/512 with RSA keys, ES256/384/512 with EC keys).
 */
import crypto, { type KeyObject } from 'node:crypto';

export type JWTAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512';

const hashOf: Record<JWTAlgorithm, string> = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };

export interface SigningKey {
  key: KeyObject;
  alg: JWTAlgorithm;
  kid: string;
}

export interface VerificationKey {
  key: KeyObject;
  kid: string;
}

export interface DecodedJWT {
  header: { alg?: string; kid?: string; typ?: string };
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** The key id upstream derives: the unpadded base64url SHA-256 of the DER (PKIX) public key. */
export function keyID(publicKey: KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

function algorithmFor(key: KeyObject): JWTAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
    throw new Error(`unsupported EC curve ${curve ?? '(unknown)'} for service account tokens`);
  }
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? '(unknown)'} for service account tokens; use RSA or EC`);
}

/** Splits a file into its PEM blocks. */
export function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN [^-]+-----[\s\S]+?-----END [^-]+-----/g) ?? [];
}

/** A private key (PEM) to sign with. */
export function signingKeyFromPEM(pem: string | Buffer): SigningKey {
  const key = crypto.createPrivateKey(pem);
  return { key, alg: algorithmFor(key), kid: keyID(crypto.createPublicKey(key)) };
}

/** Public keys from PEM text holding public keys, private keys or certificates. */
export function verificationKeysFromPEM(text: string): VerificationKey[] {
  const out: VerificationKey[] = [];
  for (const block of pemBlocks(text)) {
    let key: KeyObject;
    if (block.includes('CERTIFICATE')) key = new crypto.X509Certificate(block).publicKey;
    else if (block.includes('PRIVATE KEY')) key = crypto.createPublicKey(crypto.createPrivateKey(block));
    else if (block.includes('PUBLIC KEY')) key = crypto.createPublicKey(block);
    else continue;
    algorithmFor(key);
    out.push({ key, kid: keyID(key) });
  }
  return out;
}

export function signJWT(payload: Record<string, unknown>, k: SigningKey): string {
  const head = Buffer.from(JSON.stringify({ alg: k.alg, kid: k.kid })).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = `${head}.${body}`;
  const sig = crypto.sign(hashOf[k.alg], Buffer.from(input), k.alg.startsWith('ES') ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key);
  return `${input}.${sig.toString('base64url')}`;
}

/** Parses a compact JWS without verifying it; null when the text is not one. */
export function decodeJWT(token: string): DecodedJWT | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as DecodedJWT['header'];
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object' || Array.isArray(payload)) return null;
    return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch {
    return null;
  }
}

/** Whether one of `keys` signed the token with the algorithm its header names. */
export function verifyJWTSignature(jwt: DecodedJWT, keys: readonly VerificationKey[]): boolean {
  const alg = jwt.header.alg as JWTAlgorithm | undefined;
  if (!alg || !(alg in hashOf)) return false;
  const candidates = jwt.header.kid ? keys.filter((k) => k.kid === jwt.header.kid) : keys;
  for (const k of candidates.length ? candidates : keys) {
    const type = k.key.asymmetricKeyType;
    if ((alg.startsWith('RS') && type !== 'rsa') || (alg.startsWith('ES') && type !== 'ec')) continue;
    try {
      const ok = crypto.verify(hashOf[alg], Buffer.from(jwt.signingInput), alg.startsWith('ES') ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key, jwt.signature);
      if (ok) return true;
    } catch {
      /* malformed signature: try the next key */
    }
  }
  return false;
}
