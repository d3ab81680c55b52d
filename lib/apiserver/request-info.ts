/**
 * RequestInfo: what a request is about, read from its method and path, after upstream's
 * RequestInfoFactory. Resource requests look like
 *   /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
 *   /apis/{group}/{version}/{resource}/{name}
 * with an optional `watch/` after the version (the deprecated watch paths).
 */

export type RequestVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'proxy' | 'connect' | '';

export interface RequestInfo {
  isResourceRequest: boolean;
  path: string;
  verb: RequestVerb;
  /** 'api' or 'apis' for resource requests. */
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path parts after the subresource (proxy paths). */
  parts: string[];
}

/** Subresources of a namespace that address the namespace itself. */
const namespaceSubresources = new Set(['status', 'finalize']);

function isWatchQuery(query: URLSearchParams): boolean {
  const w = query.get('watch');
  return w === 'true' || w === '1';
}

export function parseRequestInfo(method: string, rawPath: string, query: URLSearchParams): RequestInfo {
  const path = rawPath.split('?')[0]!;
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: '',
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
  const m = method.toUpperCase();
  let parts = path.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  if (parts[0] !== 'api' && parts[0] !== 'apis') {
    info.verb = m === 'GET' || m === 'HEAD' ? 'get' : m === 'POST' ? 'create' : m === 'PUT' ? 'update' : m === 'PATCH' ? 'patch' : m === 'DELETE' ? 'delete' : '';
    return info;
  }
  info.apiPrefix = parts[0]!;
  parts = parts.slice(1);
  if (info.apiPrefix === 'apis') {
    if (parts.length < 2) return info; // /apis or /apis/{group}: discovery
    info.apiGroup = parts[0]!;
    info.apiVersion = parts[1]!;
    parts = parts.slice(2);
  } else {
    if (parts.length < 1) return info; // /api
    info.apiVersion = parts[0]!;
    parts = parts.slice(1);
  }
  if (parts.length === 0) return info; // /api/v1: resource list
  info.isResourceRequest = true;

  let watchPath = false;
  if (parts[0] === 'watch') {
    watchPath = true;
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1]!;
      if (parts.length > 2 && !namespaceSubresources.has(parts[2]!)) parts = parts.slice(2);
    }
  }
  info.resource = parts[0] ?? '';
  info.name = parts[1] ?? '';
  info.subresource = parts[2] ?? '';
  info.parts = parts.slice(3);

  if (watchPath) info.verb = 'watch';
  else {
    switch (m) {
      case 'GET':
      case 'HEAD':
        info.verb = info.name ? 'get' : isWatchQuery(query) ? 'watch' : 'list';
        if (info.name && isWatchQuery(query)) info.verb = 'watch';
        break;
      case 'POST':
        info.verb = 'create';
        break;
      case 'PUT':
        info.verb = 'update';
        break;
      case 'PATCH':
        info.verb = 'patch';
        break;
      case 'DELETE':
        info.verb = info.name ? 'delete' : 'deletecollection';
        break;
      default:
        info.verb = '';
    }
  }
  // Connect-style subresources.
  if (['exec', 'attach', 'portforward', 'proxy'].includes(info.subresource) && info.verb !== '') {
    info.verb = info.subresource === 'proxy' ? 'proxy' : 'connect';
  }
  if (info.resource === 'namespaces') info.namespace = info.name ? info.name : info.namespace;
  return info;
}
