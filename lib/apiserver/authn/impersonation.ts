/**
 * Impersonation: a request may act as another user with the headers
 *
 *   Impersonate-User, Impersonate-Uid, Impersonate-Group (repeatable),
 *   Impersonate-Extra-<key> (repeatable; the key percent-encoded)
 *
 * Each requested value must be allowed by the `impersonate` verb: on users (or, for
 * system:serviceaccount:<ns>:<name>, on serviceaccounts in <ns>), groups, uids and
 * userextras/<key> (the last two in authentication.k8s.io). The request then proceeds as that user.
 */
import type { IncomingMessage } from 'node:http';
import { newBadRequest, newForbidden } from '../../machinery/index.js';
import type { UserInfo } from '../../registry/index.js';
import { anonymousUser, forbiddenMessage, type AuthorizationAttributes, type Authorizer } from '../auth.js';
import { authenticatedGroup } from './request.js';
import { parseServiceAccountUsername, serviceAccountsGroup } from './serviceaccount.js';

const extraPrefix = 'impersonate-extra-';

function values(h: string | string[] | undefined): string[] {
  if (h === undefined) return [];
  return (Array.isArray(h) ? h : [h]).map((v) => v.trim());
}

/** Whether a request asks to impersonate anyone. */
export function wantsImpersonation(req: IncomingMessage): boolean {
  return Object.keys(req.headers).some((k) => k === 'impersonate-user' || k === 'impersonate-group' || k === 'impersonate-uid' || k.startsWith(extraPrefix));
}

export async function impersonate(req: IncomingMessage, actor: UserInfo, authorizer: Authorizer): Promise<UserInfo> {
  const h = req.headers;
  const users = values(h['impersonate-user']);
  const groups = values(h['impersonate-group']);
  const uids = values(h['impersonate-uid']);
  const extra: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (!k.startsWith(extraPrefix)) continue;
    let key = k.slice(extraPrefix.length);
    try {
      key = decodeURIComponent(key);
    } catch {
      throw newBadRequest(`invalid impersonation extra key ${JSON.stringify(key)}`);
    }
    extra[key.toLowerCase()] = values(v);
  }
  if (users.length > 1) throw newBadRequest('only one Impersonate-User may be given');
  if (uids.length > 1) throw newBadRequest('only one Impersonate-Uid may be given');
  const username = users[0];
  if (username === undefined || username === '') {
    throw newBadRequest(`requested impersonation of groups, uid or extra information without impersonating a user`);
  }

  const check = async (attrs: Omit<AuthorizationAttributes, 'user' | 'verb' | 'isResourceRequest' | 'path' | 'apiVersion'>) => {
    const a: AuthorizationAttributes = { user: actor, verb: 'impersonate', isResourceRequest: true, path: '', apiVersion: '', ...attrs };
    const d = await authorizer.authorize(a);
    if (d.decision !== 'allow') {
      throw newForbidden({ group: a.apiGroup, resource: a.resource }, a.name, forbiddenMessage(a) + (d.reason ? `: ${d.reason}` : ''));
    }
  };

  const sa = parseServiceAccountUsername(username);
  if (sa) await check({ namespace: sa.namespace, apiGroup: '', resource: 'serviceaccounts', subresource: '', name: sa.name });
  else await check({ namespace: '', apiGroup: '', resource: 'users', subresource: '', name: username });
  for (const g of groups) await check({ namespace: '', apiGroup: '', resource: 'groups', subresource: '', name: g });
  if (uids[0] !== undefined) await check({ namespace: '', apiGroup: 'authentication.k8s.io', resource: 'uids', subresource: '', name: uids[0] });
  for (const [key, vs] of Object.entries(extra)) {
    for (const v of vs) await check({ namespace: '', apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
  }

  const out: UserInfo = { username, groups: [...groups] };
  if (uids[0] !== undefined) out.uid = uids[0];
  if (Object.keys(extra).length) out.extra = extra;
  if (sa) {
    // A service account is in its groups whether or not the caller named them.
    for (const g of [serviceAccountsGroup, `${serviceAccountsGroup}:${sa.namespace}`]) if (!out.groups.includes(g)) out.groups.push(g);
  }
  if (username === anonymousUser.username) {
    if (!out.groups.includes('system:unauthenticated')) out.groups.push('system:unauthenticated');
  } else if (!out.groups.includes(authenticatedGroup)) out.groups.push(authenticatedGroup);
  return out;
}
