/**
 * Name and label checks with the messages Kubernetes prints, so that a user who sends a
 * bad name reads the same explanation they would get from upstream.
 */
import type { FieldError, FieldPath } from './field-errors.js';

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);
const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`);
const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const qualifiedNameRe = new RegExp(`^${qualifiedNameFmt}$`);
const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueRe = new RegExp(`^${labelValueFmt}$`);

function examples(...ex: string[]): string {
  return `(e.g. ${ex.map((e) => `'${e}'`).join(',  or ')}, regex used for validation is `;
}

export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!dns1123LabelRe.test(v))
    errs.push(
      `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character ${examples('my-name', '123-abc')}'${dns1123LabelFmt}')`,
    );
  return errs;
}

export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!dns1123SubdomainRe.test(v))
    errs.push(
      `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character ${examples('example.com')}'${dns1123SubdomainFmt}')`,
    );
  return errs;
}

export function isDNS1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!dns1035LabelRe.test(v))
    errs.push(
      `a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character ${examples('my-name', 'abc-123')}'${dns1035LabelFmt}')`,
    );
  return errs;
}

/** Label and annotation keys: an optional DNS subdomain prefix, a slash, and a name of up to 63 characters. */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  } else {
    return [
      `a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character ${examples('MyName', 'my.name', '123-abc')}'${qualifiedNameFmt}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !qualifiedNameRe.test(name))
    errs.push(
      `name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character ${examples('MyName', 'my.name', '123-abc')}'${qualifiedNameFmt}')`,
    );
  return errs;
}

export function isValidLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!labelValueRe.test(v))
    errs.push(
      `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character ${examples('MyValue', 'my_value', '12345')}'${labelValueFmt}')`,
    );
  return errs;
}

export function validateLabels(labels: Record<string, string> | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(path.invalid(k, m));
    if (typeof v !== 'string') errs.push(path.key(k).typeInvalid(v, 'must be a string'));
    else for (const m of isValidLabelValue(v)) errs.push(path.invalid(v, m));
  }
  return errs;
}

export const totalAnnotationSizeLimit = 256 * 1024;

export function validateAnnotations(annotations: Record<string, string> | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(path.invalid(k, m));
    total += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (total > totalAnnotationSizeLimit) errs.push(path.tooLong(totalAnnotationSizeLimit));
  return errs;
}

export function isValidPortNum(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && p <= 65535;
}

export function isValidIPv4(s: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  return !!m && m.slice(1).every((o) => Number(o) <= 255 && String(Number(o)) === o);
}

/** IANA_SVC_NAME: the name of a port (at most 15 characters, letters, digits and '-'). */
export function isValidPortName(s: string): string[] {
  const errs: string[] = [];
  if (s.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(s)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (s.includes('--')) errs.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(s)) errs.push('must contain at least one letter (a-z)');
  if (s.startsWith('-') || s.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}
