/**
 * Static bearer tokens from --token-auth-file, in upstream's CSV format, one token a line:
 *
 *   token,user,uid,"group1,group2"
 *
 * The groups column is optional. Tokens are read once at startup, as upstream.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import type { UserInfo } from '../../registry/index.js';
import type { TokenAuthenticator, TokenResult } from './types.js';

/** Splits one CSV line (RFC 4180 quoting: "a,b" and "" for a quote). */
export function parseCSVLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  out.push(cur);
  return out;
}

export function parseTokenFile(text: string, file = 'token file'): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let rec: string[];
    try {
      rec = parseCSVLine(line).map((f) => f.trim());
    } catch (e) {
      throw new Error(`${file} line ${i + 1}: ${(e as Error).message}`);
    }
    if (rec.length < 3) throw new Error(`token file '${file}' must have at least 3 columns (token, user name, user uid), found ${rec.length} on line ${i + 1}`);
    const [token, username, uid, groups] = rec as [string, string, string, string | undefined];
    if (!token) throw new Error(`${file} line ${i + 1}: the token is empty`);
    if (tokens.has(token)) throw new Error(`${file} line ${i + 1}: duplicate token`);
    tokens.set(token, { username, uid, groups: groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [] });
  });
  return tokens;
}

export class TokenFileAuthenticator implements TokenAuthenticator {
  private readonly byHash = new Map<string, UserInfo>();

  constructor(tokens: Map<string, UserInfo>) {
    // Looked up by digest, so that a lookup's timing says nothing about the stored tokens.
    for (const [t, u] of tokens) this.byHash.set(digest(t), u);
  }

  static fromFile(file: string): TokenFileAuthenticator {
    return new TokenFileAuthenticator(parseTokenFile(fs.readFileSync(file, 'utf8'), file));
  }

  async authenticateToken(token: string, audiences: string[]): Promise<TokenResult | null> {
    const u = this.byHash.get(digest(token));
    // Static tokens are good for any audience.
    return u ? { user: structuredClone(u), audiences } : null;
  }
}

function digest(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}
