/**
 * Serving the OpenAPI documents, as kube-apiserver does:
 *
 *   GET /openapi/v3                 the index: { paths: { "apis/apps/v1": { serverRelativeURL: "/openapi/v3/apis/apps/v1?hash=<H>" } } }
 *   GET /openapi/v3/apis/apps/v1    one group-version (JSON). With ?hash=<H> equal to the current hash the answer is
 *                                   cacheable forever (Cache-Control: public, immutable); a stale hash is redirected (301)
 *                                   to the current URL, so a client with an old index still gets the right document.
 *   GET /openapi/v2                 everything as Swagger 2.0, JSON or protobuf (kubectl asks for protobuf only).
 *
 * Every answer carries an ETag (the hash) and honours If-None-Match with 304, which is how
 * kubectl's HTTP cache revalidates the index. Large answers are gzipped when the client allows.
 * The resource types come from a function, so CRDs served later show up in the documents.
 */
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AnyResourceType } from '../api/index.js';
import { OpenAPIGenerator, type ServedDocument } from '../api/index.js';
import { StatusError, newMethodNotSupported, newNotAcceptable, newNotFound } from '../machinery/index.js';
import { parseMediaTypes } from './negotiation.js';
import type { PathHandler } from './server.js';

export const openAPIV2ProtobufType = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const v2ProtobufSubtypes = new Set(['com.github.proto-openapi.spec.v2.v1.0+protobuf', 'com.github.proto-openapi.spec.v2@v1.0+protobuf']);

export interface OpenAPIHandlerOptions {
  /** The resource types served now (built-ins and CRDs); consulted on every request. */
  resourceTypes: () => readonly AnyResourceType[];
  generator: OpenAPIGenerator;
}

type Form = 'json' | 'protobuf';

/** The forms the client accepts, best first (by q, then by order). */
function acceptedForms(header: string | undefined, allowProtobuf: boolean): Form[] {
  if (!header || header.trim() === '') return ['json'];
  const clauses = parseMediaTypes(header)
    .map((t, i) => ({ t, i, q: t.params['q'] === undefined ? 1 : Number(t.params['q']) }))
    .filter((c) => !(c.q <= 0))
    .sort((a, b) => b.q - a.q || a.i - b.i);
  const forms: Form[] = [];
  for (const { t } of clauses) {
    const [type, subtype] = t.type.split('/');
    if (type !== 'application' && type !== '*') continue;
    if (subtype === 'json' || subtype === '*') forms.push('json');
    else if (allowProtobuf && v2ProtobufSubtypes.has(subtype ?? '')) forms.push('protobuf');
  }
  return forms;
}

function notFound(path: string): StatusError {
  const e = newNotFound({ group: '', resource: '' }, '');
  e.status.message = `the server could not find the requested resource: no OpenAPI document at ${path}`;
  e.status.details = {};
  return e;
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === '*' || v === `"${etag}"`;
  });
}

export function openAPIPathHandler(o: OpenAPIHandlerOptions): PathHandler {
  // Gzipped bodies by ETag and form; bounded, oldest dropped first.
  const gzipped = new Map<string, Buffer>();
  const gzipOf = (key: string, body: Buffer) => {
    let z = gzipped.get(key);
    if (!z) {
      z = gzipSync(body);
      gzipped.set(key, z);
      while (gzipped.size > 32) gzipped.delete(gzipped.keys().next().value!);
    }
    return z;
  };

  // The JSON text of each document as bytes, made once.
  const bytes = new WeakMap<ServedDocument, Buffer>();
  const bytesOf = (d: ServedDocument) => {
    let b = bytes.get(d);
    if (!b) {
      b = Buffer.from(d.json);
      bytes.set(d, b);
    }
    return b;
  };

  function send(req: FastifyRequest, reply: FastifyReply, body: Buffer, contentType: string, etag: string, cacheControl: string, vary: boolean) {
    reply.header('ETag', `"${etag}"`).header('Cache-Control', cacheControl);
    if (vary) reply.header('Vary', 'Accept, Accept-Encoding');
    if (etagMatches(req.headers['if-none-match'], etag)) {
      reply.code(304).send();
      return;
    }
    reply.code(200).type(contentType);
    const enc = req.headers['accept-encoding'];
    if (body.length > 1024 && typeof enc === 'string' && /\bgzip\b/.test(enc)) {
      reply.header('Content-Encoding', 'gzip').send(gzipOf(`${etag}:${contentType}`, body));
    } else reply.send(body);
  }

  return async (req, reply, info) => {
    const path = info.path.replace(/\/+$/, '');
    if (path !== '/openapi/v2' && path !== '/openapi/v3' && !path.startsWith('/openapi/v3/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const e = newMethodNotSupported({ group: '', resource: '' }, req.method);
      e.status.message = `${req.method} is not supported on ${path}: the OpenAPI documents are read with GET`;
      e.status.details = {};
      throw e;
    }
    const docs = o.generator.documents(o.resourceTypes());

    if (path === '/openapi/v3') {
      const index = docs.v3Index();
      send(req, reply, bytesOf(index), 'application/json', index.etag, 'no-cache, private', false);
      return true;
    }

    if (path === '/openapi/v2') {
      const form = acceptedForms(req.headers.accept, true)[0];
      if (!form) throw newNotAcceptable(['application/json', openAPIV2ProtobufType]);
      const doc = docs.v2();
      if (form === 'protobuf') send(req, reply, docs.v2Protobuf(), openAPIV2ProtobufType, doc.etag, 'no-cache, private', true);
      else send(req, reply, bytesOf(doc), 'application/json', doc.etag, 'no-cache, private', true);
      return true;
    }

    const gv = path.slice('/openapi/v3/'.length);
    const doc: ServedDocument | undefined = docs.v3(gv);
    if (!doc) throw notFound(path);
    if (acceptedForms(req.headers.accept, false).length === 0) throw newNotAcceptable(['application/json']);
    const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
    const hash = query.get('hash');
    if (hash && hash !== doc.etag) {
      // An index older than the document: send the client to the current version.
      reply.code(301).header('Location', `/openapi/v3/${gv}?hash=${doc.etag}`).header('Cache-Control', 'no-cache, private').send();
      return true;
    }
    if (hash) reply.header('Expires', new Date(Date.now() + 365 * 24 * 3600 * 1000).toUTCString());
    send(req, reply, bytesOf(doc), 'application/json', doc.etag, hash ? 'public, immutable' : 'no-cache, private', true);
    return true;
  };
}
