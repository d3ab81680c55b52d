/**
 * OpenAPI documents generated from the zod schemas (the one source of truth): OpenAPI 3.0 per
 * group-version with its index, and Swagger 2.0 (JSON and kubectl's protobuf form). kubectl
 * reads them for server-side field validation, `kubectl explain` and apply patches.
 */
export { OpenAPIGenerator, hashOf, type OpenAPIDocuments, type OpenAPIOptions, type ServedDocument } from './documents.js';
export { SchemaConverter, refPrefix, type Dialect, type SchemaObject } from './schema-convert.js';
export { groupVersionPath, groupIdentifier, patchTypes, type GVK } from './paths.js';
export { encodeSwaggerProtobuf } from './protobuf-v2.js';
