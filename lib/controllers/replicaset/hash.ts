/**
 * The name hashes of upstream: a 32-bit FNV hash of the pod template (plus the collision
 * count), printed in decimal and then mapped onto an alphabet without vowels, so that
 * generated names never spell words: `web-5d78c4b7f9`.
 *
 * Upstream hashes Go's printed form of the struct; tkube hashes a canonical JSON form (keys
 * sorted). The scheme, alphabet and name shapes are upstream's; the digits differ.
 */
import { stableStringify } from '../../machinery/index.js';

const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** Maps each character's code onto the alphabet (upstream rand.SafeEncodeString). */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += safeAlphabet[s.charCodeAt(i) % safeAlphabet.length];
  return out;
}

const FNV_PRIME = 0x01000193;
const FNV_OFFSET = 0x811c9dc5;

/** FNV-1a, 32 bits, over bytes. */
export function fnv32a(data: Uint8Array, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (const b of data) {
    h ^= b;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h >>> 0;
}

/** FNV-1, 32 bits (multiply, then xor), as upstream's revision hash uses. */
export function fnv32(data: Uint8Array, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (const b of data) {
    h = Math.imul(h, FNV_PRIME) >>> 0;
    h ^= b;
  }
  return h >>> 0;
}

const utf8 = new TextEncoder();

/**
 * The pod-template-hash of a template (upstream controller.ComputeHash): FNV-1a of the
 * template, then the collision count as 8 little-endian bytes when set.
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  let h = fnv32a(utf8.encode(stableStringify(template ?? {})));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}

/** The hash of a ControllerRevision's data (upstream history.HashControllerRevision). */
export function hashRevisionData(data: unknown, collisionCount?: number): string {
  let h = fnv32(utf8.encode(stableStringify(data ?? null)));
  if (collisionCount !== undefined && collisionCount !== null) h = fnv32(utf8.encode(String(collisionCount)), h);
  return safeEncodeString(String(h));
}

/** `<prefix>-<hash>`, the prefix cut to leave room in a 253-character name (upstream ControllerRevisionName). */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}
