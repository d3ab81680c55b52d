/**
 * Field errors, as Kubernetes' `field.ErrorList`: each names the field path
 * (`spec.containers[0].image`), a type, the bad value and a detail. They become the
 * `details.causes` of a 422 Invalid Status.
 */

export type FieldErrorType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'InternalError';

const typeText: Record<FieldErrorType, string> = {
  FieldValueNotFound: 'Not found',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueTypeInvalid: 'Invalid value',
  InternalError: 'Internal error',
};

export interface FieldError {
  type: FieldErrorType;
  field: string;
  badValue?: unknown;
  detail?: string;
}

/** Types whose message omits the value, as upstream does. */
const omitValue = new Set<FieldErrorType>(['FieldValueRequired', 'FieldValueForbidden', 'FieldValueTooLong', 'FieldValueTooMany', 'InternalError']);

/** A bad value printed as given, for values upstream prints with Go's %#v (`[]string{"a", "*"}`). */
export class GoValue {
  constructor(readonly text: string) {}
}

function formatValue(v: unknown): string {
  if (v === undefined) return '';
  if (v instanceof GoValue) return v.text;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** The part after the field path: `Invalid value: "Foo": a lowercase ...`. */
export function fieldErrorBody(e: FieldError): string {
  let s = typeText[e.type];
  if (!omitValue.has(e.type) && e.badValue !== undefined) s += `: ${formatValue(e.badValue)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export function fieldErrorString(e: FieldError): string {
  return e.field ? `${e.field}: ${fieldErrorBody(e)}` : fieldErrorBody(e);
}

/** Builds field paths the way upstream prints them: `spec.containers[0].ports[1].containerPort`. */
export class FieldPath {
  constructor(private readonly text: string = '') {}
  static root(name = ''): FieldPath {
    return new FieldPath(name);
  }
  child(name: string): FieldPath {
    return new FieldPath(this.text ? `${this.text}.${name}` : name);
  }
  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }
  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }
  toString(): string {
    return this.text;
  }

  required(detail?: string): FieldError {
    return { type: 'FieldValueRequired', field: this.text, detail };
  }
  invalid(value: unknown, detail?: string): FieldError {
    return { type: 'FieldValueInvalid', field: this.text, badValue: value, detail };
  }
  notSupported(value: unknown, supported: readonly string[]): FieldError {
    return {
      type: 'FieldValueNotSupported',
      field: this.text,
      badValue: value,
      detail: supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : undefined,
    };
  }
  duplicate(value: unknown): FieldError {
    return { type: 'FieldValueDuplicate', field: this.text, badValue: value };
  }
  forbidden(detail: string): FieldError {
    return { type: 'FieldValueForbidden', field: this.text, detail };
  }
  tooLong(max: number): FieldError {
    return { type: 'FieldValueTooLong', field: this.text, detail: `may not be more than ${max} bytes` };
  }
  notFound(value: unknown): FieldError {
    return { type: 'FieldValueNotFound', field: this.text, badValue: value };
  }
  typeInvalid(value: unknown, detail: string): FieldError {
    return { type: 'FieldValueTypeInvalid', field: this.text, badValue: value, detail };
  }
}

export function fieldPath(text = ''): FieldPath {
  return new FieldPath(text);
}
