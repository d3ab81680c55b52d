import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { builtinResources, defineResource, ObjectMetaSchema, OpenAPIGenerator, type AnyResourceType } from '../api/index.js';
import { StatusError } from '../machinery/index.js';
import { openAPIPathHandler, openAPIV2ProtobufType } from './openapi.js';
import { parseRequestInfo } from './request-info.js';
import { anonymousUser } from './auth.js';

let app: FastifyInstance;
let types: AnyResourceType[] = [...builtinResources];

beforeAll(async () => {
  const handler = openAPIPathHandler({ generator: new OpenAPIGenerator(), resourceTypes: () => types });
  app = Fastify();
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof StatusError) return reply.code(err.code).send(err.status);
    return reply.code(500).send(String(err));
  });
  app.all('/*', async (req, reply) => {
    const info = parseRequestInfo(req.method, req.url, new URLSearchParams());
    if (await handler(req, reply, info, anonymousUser)) return reply;
    return reply.code(418).send('not handled');
  });
  await app.ready();
});
afterAll(() => app.close());

const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

describe('/openapi/v3', () => {
  test('the index is JSON with an ETag, revalidated on every use (no-cache)', async () => {
    const r = await get('/openapi/v3');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['cache-control']).toBe('no-cache, private');
    expect(r.headers['etag']).toMatch(/^"[0-9A-F]{128}"$/);
    expect(Object.keys(r.json().paths)).toContain('apis/apps/v1');
    const again = await get('/openapi/v3', { 'if-none-match': r.headers['etag'] as string });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  test('a hashed group-version URL is immutable; the same URL without hash must be revalidated', async () => {
    const url = (await get('/openapi/v3')).json().paths['apis/apps/v1'].serverRelativeURL as string;
    const r = await get(url, { accept: 'application/json' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['cache-control']).toBe('public, immutable');
    expect(Date.parse(r.headers['expires'] as string)).toBeGreaterThan(Date.now() + 300 * 24 * 3600 * 1000);
    expect(r.headers['etag']).toBe(`"${url.split('hash=')[1]}"`);
    expect(r.json().components.schemas['io.k8s.api.apps.v1.Deployment']).toBeDefined();
    const plain = await get('/openapi/v3/apis/apps/v1');
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['cache-control']).toBe('no-cache, private');
  });

  test('a stale hash is redirected to the current one', async () => {
    const r = await get('/openapi/v3/apis/apps/v1?hash=0123');
    expect(r.statusCode).toBe(301);
    const current = (await get('/openapi/v3')).json().paths['apis/apps/v1'].serverRelativeURL;
    expect(r.headers['location']).toBe(current);
  });

  test('unknown group-versions are 404; formats other than JSON are 406', async () => {
    const missing = await get('/openapi/v3/apis/nothing.example.com/v1');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ kind: 'Status', reason: 'NotFound' });
    const pb = await get('/openapi/v3/api/v1', { accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf' });
    expect(pb.statusCode).toBe(406);
    const anything = await get('/openapi/v3/api/v1', { accept: 'application/com.github.proto-openapi.spec.v3.v1.0+protobuf, */*;q=0.5' });
    expect(anything.statusCode).toBe(200);
  });

  test('large documents are gzipped for clients that accept it', async () => {
    const r = await get('/openapi/v3/api/v1', { 'accept-encoding': 'gzip' });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(r.rawPayload).toString()).openapi).toBe('3.0.0');
  });

  test('resource types are read per request: a CRD served later shows up, and leaves other hashes alone', async () => {
    const before = (await get('/openapi/v3')).json().paths;
    types = [
      ...builtinResources,
      defineResource({
        group: 'stable.example.com', version: 'v1', kind: 'CronTab', resource: 'crontabs', namespaced: true,
        schema: z.object({ apiVersion: z.string().optional(), kind: z.string().optional(), metadata: ObjectMetaSchema }) as never,
      }),
    ];
    try {
      const after = (await get('/openapi/v3')).json().paths;
      expect(after['apis/stable.example.com/v1']).toBeDefined();
      expect(after['apis/apps/v1']).toEqual(before['apis/apps/v1']);
      expect((await get('/openapi/v3/apis/stable.example.com/v1')).statusCode).toBe(200);
    } finally {
      types = [...builtinResources];
    }
  });

  test('only GET and HEAD', async () => {
    expect((await app.inject({ method: 'DELETE', url: '/openapi/v3' })).statusCode).toBe(405);
    expect((await app.inject({ method: 'HEAD', url: '/openapi/v3' })).statusCode).toBe(200);
  });

  test('other paths are left to the next handler', async () => {
    expect((await get('/openapi')).statusCode).toBe(418);
    expect((await get('/openapiv3')).statusCode).toBe(418);
  });
});

describe('/openapi/v2', () => {
  test('JSON by default and for application/json', async () => {
    for (const accept of [undefined, 'application/json', '*/*']) {
      const r = await get('/openapi/v2', accept ? { accept } : {});
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.json().swagger).toBe('2.0');
    }
  });

  test('protobuf for the media type kubectl asks for', async () => {
    const r = await get('/openapi/v2', { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe(openAPIV2ProtobufType);
    // Field 1 (swagger), length-delimited, "2.0".
    expect([...r.rawPayload.subarray(0, 5)]).toEqual([0x0a, 3, 0x32, 0x2e, 0x30]);
  });

  test('406 when nothing acceptable is asked for', async () => {
    const r = await get('/openapi/v2', { accept: 'text/html' });
    expect(r.statusCode).toBe(406);
    expect(r.json()).toMatchObject({ kind: 'Status', reason: 'NotAcceptable' });
  });
});
