/** What the token authenticators share. */
import type { UserInfo } from '../../registry/index.js';

/** A token that looked like one of ours but is not valid (expired, forged, revoked...). */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

export interface TokenResult {
  user: UserInfo;
  /** Audiences the token is valid for, among those asked about. */
  audiences: string[];
}

/**
 * Checks a bearer token. Returns null when the token is not of this authenticator's kind (the
 * next one may know it); throws InvalidTokenError when it is, but is not valid. `audiences`
 * are the audiences the caller accepts (the API server's own for requests).
 */
export interface TokenAuthenticator {
  authenticateToken(token: string, audiences: string[]): Promise<TokenResult | null>;
}
