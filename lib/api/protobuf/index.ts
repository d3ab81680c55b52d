/**
 * Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf), decoded into the
 * JSON objects the rest of tkube parses. Typed clients such as kubectl's `create` commands
 * send protobuf first; tkube answers in JSON, which they accept as their second choice.
 */
import { StatusError } from '../../machinery/index.js';
import { decodeProtobufObject, protobufMediaType, UnknownProtobufKindError, type DecodeOptions } from './decode.js';
import { ProtobufDecodeError } from './wire.js';

export { decodeProtobufObject, readEnvelope, hasProtobufMagic, protobufMediaType, protobufMagic, ProtobufFieldError, UnknownProtobufKindError } from './decode.js';
export type { ProtobufEnvelope, DecodeOptions } from './decode.js';
export { WireReader, WireType, ProtobufDecodeError } from './wire.js';
export { WireWriter, encodeEnvelope } from './writer.js';
export { builtinTables, parseMessageTable, TableError } from './table.js';
export type { MessageDef, FieldDef, ProtobufTables } from './table.js';

/**
 * Decodes a protobuf request body, failing as a Status: 400 BadRequest for malformed input,
 * 415 UnsupportedMediaType (naming the JSON types in `accepted`) for a kind with no table.
 */
export function decodeProtobufBody(buf: Uint8Array, accepted: string[], opts?: DecodeOptions): Record<string, unknown> {
  try {
    return decodeProtobufObject(buf, opts);
  } catch (err) {
    if (err instanceof ProtobufDecodeError) {
      throw new StatusError(
        {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `the body of the request is not valid Kubernetes protobuf: ${err.message}`,
          reason: 'BadRequest',
          code: 400,
        },
        { cause: err },
      );
    }
    if (err instanceof UnknownProtobufKindError) {
      const gv = err.apiVersion || '(no apiVersion)';
      throw new StatusError(
        {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `the body of the request was in an unknown format (${protobufMediaType}): tkube cannot decode ${err.kind} (${gv}) from protobuf; send it as JSON - accepted media types include: ${accepted.join(', ')}`,
          reason: 'UnsupportedMediaType',
          code: 415,
        },
        { cause: err },
      );
    }
    throw err;
  }
}
