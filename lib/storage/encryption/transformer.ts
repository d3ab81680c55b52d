/**
 * Encryption at rest, after upstream's value transformers: each provider turns a value into
 * its stored form and back. Encrypted values carry a prefix naming the provider and key,
 *
 *   k8s:enc:aescbc:v1:<key>:   IV (16 bytes), AES-CBC ciphertext (PKCS#7 padding)
 *   k8s:enc:aesgcm:v1:<key>:   nonce (12 bytes), AES-GCM ciphertext, tag (16 bytes); the etcd
 *                              key is the additional authenticated data
 *   k8s:enc:secretbox:v1:<key>: nonce (24 bytes), XSalsa20-Poly1305 box (tag first)
 *
 * and plaintext (identity) has none. The first provider of a resource writes; every provider
 * reads what carries its prefix, so keys can be rotated and encryption turned on or off.
 */
import crypto from 'node:crypto';
import nacl from 'tweetnacl';

/** Turns values into their stored form and back; `key` is the etcd key (context for AEADs). */
export interface ValueTransformer {
  toStorage(key: string, value: Buffer): Buffer;
  fromStorage(key: string, value: Buffer): Buffer;
}

/** One provider's key (or identity): a prefix and the operations under it. */
export interface PrefixedTransformer {
  prefix: string;
  seal(key: string, plain: Buffer): Buffer;
  open(key: string, sealed: Buffer): Buffer;
}

export const encryptedPrefix = 'k8s:enc:';

export const identity: PrefixedTransformer = { prefix: '', seal: (_k, v) => v, open: (_k, v) => v };

export function aesCBC(name: string, secret: Buffer): PrefixedTransformer {
  const alg = `aes-${secret.length * 8}-cbc`;
  return {
    prefix: `${encryptedPrefix}aescbc:v1:${name}:`,
    seal(_key, plain) {
      const iv = crypto.randomBytes(16);
      const c = crypto.createCipheriv(alg, secret, iv);
      return Buffer.concat([iv, c.update(plain), c.final()]);
    },
    open(_key, sealed) {
      if (sealed.length < 32 || sealed.length % 16 !== 0) throw new Error('the stored data is not a whole number of AES blocks');
      const d = crypto.createDecipheriv(alg, secret, sealed.subarray(0, 16));
      return Buffer.concat([d.update(sealed.subarray(16)), d.final()]);
    },
  };
}

export function aesGCM(name: string, secret: Buffer): PrefixedTransformer {
  const alg = `aes-${secret.length * 8}-gcm` as crypto.CipherGCMTypes;
  return {
    prefix: `${encryptedPrefix}aesgcm:v1:${name}:`,
    seal(key, plain) {
      const nonce = crypto.randomBytes(12);
      const c = crypto.createCipheriv(alg, secret, nonce);
      c.setAAD(Buffer.from(key));
      const body = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([nonce, body, c.getAuthTag()]);
    },
    open(key, sealed) {
      if (sealed.length < 12 + 16) throw new Error('the stored data is too short for AES-GCM');
      const d = crypto.createDecipheriv(alg, secret, sealed.subarray(0, 12));
      d.setAAD(Buffer.from(key));
      d.setAuthTag(sealed.subarray(sealed.length - 16));
      return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
    },
  };
}

export function secretbox(name: string, secret: Buffer): PrefixedTransformer {
  const k = new Uint8Array(secret);
  return {
    prefix: `${encryptedPrefix}secretbox:v1:${name}:`,
    seal(_key, plain) {
      const nonce = crypto.randomBytes(24);
      return Buffer.concat([nonce, Buffer.from(nacl.secretbox(new Uint8Array(plain), new Uint8Array(nonce), k))]);
    },
    open(_key, sealed) {
      if (sealed.length < 24 + nacl.secretbox.overheadLength) throw new Error('the stored data is too short for secretbox');
      const out = nacl.secretbox.open(new Uint8Array(sealed.subarray(24)), new Uint8Array(sealed.subarray(0, 24)), k);
      if (!out) throw new Error('secretbox: the data does not authenticate under this key');
      return Buffer.from(out);
    },
  };
}

/** Writes with the first provider, reads with whichever one's prefix the value carries. */
export class PrefixTransformers {
  constructor(readonly providers: PrefixedTransformer[]) {
    if (providers.length === 0) throw new Error('at least one provider is needed');
  }

  toStorage(key: string, value: Buffer): Buffer {
    const p = this.providers[0]!;
    return p.prefix ? Buffer.concat([Buffer.from(p.prefix), p.seal(key, value)]) : value;
  }

  fromStorage(key: string, value: Buffer): Buffer {
    const errors: string[] = [];
    for (const p of this.providers) {
      if (!p.prefix) continue;
      if (value.length >= p.prefix.length && value.subarray(0, p.prefix.length).toString('latin1') === p.prefix) {
        try {
          return p.open(key, value.subarray(p.prefix.length));
        } catch (err) {
          errors.push(`${p.prefix}: ${(err as Error).message}`);
        }
      }
    }
    // Identity reads what no encrypting provider claims, as long as it is not encrypted data.
    if (this.providers.some((p) => !p.prefix) && !value.subarray(0, encryptedPrefix.length).equals(Buffer.from(encryptedPrefix))) return value;
    throw new Error(errors.length ? errors.join('; ') : 'no matching prefix found');
  }
}

/** Chooses the transformers of a key's resource; keys of resources without any are plaintext. */
export class ResourceTransformers implements ValueTransformer {
  constructor(private readonly forKey: (key: string) => PrefixTransformers | undefined) {}

  toStorage(key: string, value: Buffer): Buffer {
    return this.forKey(key)?.toStorage(key, value) ?? value;
  }

  fromStorage(key: string, value: Buffer): Buffer {
    const t = this.forKey(key);
    if (t) return t.fromStorage(key, value);
    if (value.subarray(0, encryptedPrefix.length).equals(Buffer.from(encryptedPrefix))) throw new Error('the value is encrypted but no encryption provider is configured for its resource');
    return value;
  }
}
