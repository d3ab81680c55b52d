/** Content negotiation: decoding request bodies (JSON, YAML, patches) and choosing response forms. */
import { parse as parseYAML, stringify as stringifyYAML } from 'yaml';
import { newBadRequest, newNotAcceptable, newUnsupportedMediaType } from '../machinery/index.js';
import { decodeProtobufBody, protobufMediaType } from '../api/index.js';

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) return [];
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const i = kv.indexOf('=');
      if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params: p };
  });
}

export type ResponseForm = { kind: 'json' } | { kind: 'yaml' } | { kind: 'table'; version: 'v1' | 'v1beta1' } | { kind: 'metadata'; version: 'v1' | 'v1beta1' };

/** Picks the response form from Accept, in the client's order of preference. */
export function chooseResponse(accept: string | undefined): ResponseForm {
  const types = parseMediaTypes(accept);
  if (types.length === 0) return { kind: 'json' };
  for (const t of types) {
    const as = t.params['as'];
    if (as) {
      const g = t.params['g'];
      const v = t.params['v'];
      if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) continue;
      if (t.type !== 'application/json' && t.type !== '*/*') continue;
      if (as === 'Table') return { kind: 'table', version: v };
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { kind: 'metadata', version: v };
      continue;
    }
    if (t.type === 'application/json' || t.type === '*/*' || t.type === 'application/*' || t.type === 'application/json-seq') return { kind: 'json' };
    if (t.type === 'application/yaml') return { kind: 'yaml' };
  }
  throw newNotAcceptable(['application/json', 'application/yaml']);
}

export type BodyType = 'json' | 'yaml' | 'protobuf' | 'json-patch' | 'merge-patch' | 'strategic-merge-patch' | 'apply-patch';

const bodyTypes: Record<string, BodyType> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
  'application/x-yaml': 'yaml',
  'text/yaml': 'yaml',
  [protobufMediaType]: 'protobuf',
  'application/json-patch+json': 'json-patch',
  'application/merge-patch+json': 'merge-patch',
  'application/strategic-merge-patch+json': 'strategic-merge-patch',
  'application/apply-patch+yaml': 'apply-patch',
  'application/apply-patch+cbor': 'apply-patch',
};

const accepted = ['application/json', 'application/yaml', protobufMediaType];
/** What a client should fall back to when its protobuf body cannot be decoded. */
const textAccepted = ['application/json', 'application/yaml'];
const patchAccepted = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

export function bodyTypeOf(contentType: string | undefined, isPatch: boolean): BodyType {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === '' && !isPatch) return 'json';
  const bt = bodyTypes[t];
  if (!bt) throw newUnsupportedMediaType(t, isPatch ? patchAccepted : accepted);
  if (isPatch && (bt === 'json' || bt === 'yaml' || bt === 'protobuf')) throw newUnsupportedMediaType(t, patchAccepted);
  if (!isPatch && bt !== 'json' && bt !== 'yaml' && bt !== 'protobuf') throw newUnsupportedMediaType(t, accepted);
  return bt;
}

/** Parses a body as JSON, YAML or Kubernetes protobuf; malformed input is a 400 naming the problem. */
export function parseBody(buf: Buffer | undefined, type: BodyType): unknown {
  if (type === 'protobuf') {
    if (!buf || buf.length === 0) throw newBadRequest('the body of the request was empty');
    return decodeProtobufBody(buf, textAccepted);
  }
  const text = buf ? buf.toString('utf8') : '';
  if (text.trim() === '') throw newBadRequest('the body of the request was empty');
  if (type === 'yaml' || type === 'apply-patch') {
    try {
      const docs = parseYAMLDocs(text);
      if (docs.length !== 1) throw new Error(`expected exactly one document, found ${docs.length}`);
      return docs[0];
    } catch (e) {
      throw newBadRequest(`error converting YAML to JSON: yaml: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw newBadRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

function parseYAMLDocs(text: string): unknown[] {
  // Accept a single document; the yaml package throws on multi-document input to parse().
  const v = parseYAML(text, { prettyErrors: false, strict: true, uniqueKeys: true });
  return [v];
}

export function toYAML(v: unknown): string {
  return stringifyYAML(v, { lineWidth: 0 });
}
