/**
 * CustomResourceDefinitions: defaults and validation of the definitions themselves, and the
 * ResourceType each served version of a definition becomes.
 */
import { z } from 'zod';
import { fieldPath, isDNS1035Label, isDNS1123Subdomain, jsonEqual, type FieldError } from '../../machinery/index.js';
import { ObjectMetaSchema } from '../meta/v1.js';
import { defineResource, type ResourceType } from '../resource-type.js';
import type { KubeObject } from '../meta/v1.js';
import { applyDefaults, prune, validateAgainstSchema, validateStructural } from './structural.js';
import type { CustomResourceDefinition, CustomResourceDefinitionVersion, JSONSchemaProps } from './v1.js';

export const crdCleanupFinalizer = 'customresourcecleanup.apiextensions.k8s.io';

export function defaultCRD(crd: CustomResourceDefinition): void {
  const spec = crd.spec;
  if (!spec) return;
  if (spec.names) {
    spec.names.singular ||= spec.names.kind?.toLowerCase();
    spec.names.listKind ||= spec.names.kind ? `${spec.names.kind}List` : undefined;
  }
  spec.conversion ??= { strategy: 'None' };
  spec.conversion.strategy ??= 'None';
}

export function validateCRD(crd: CustomResourceDefinition, old?: CustomResourceDefinition): FieldError[] {
  const errs: FieldError[] = [];
  const p = fieldPath('spec');
  const spec = crd.spec;
  if (!spec) return [p.required()];
  const { group, names, versions } = spec;
  if (!group) errs.push(p.child('group').required());
  else {
    for (const m of isDNS1123Subdomain(group)) errs.push(p.child('group').invalid(group, m));
    if (!group.includes('.')) errs.push(p.child('group').invalid(group, 'should be a domain with at least one dot'));
  }
  if (!names?.plural) errs.push(p.child('names.plural').required());
  else for (const m of isDNS1035Label(names.plural)) errs.push(p.child('names.plural').invalid(names.plural, m));
  if (names?.singular) for (const m of isDNS1035Label(names.singular)) errs.push(p.child('names.singular').invalid(names.singular, m));
  if (!names?.kind) errs.push(p.child('names.kind').required());
  else if (!/^[A-Za-z][A-Za-z0-9]*$/.test(names.kind)) errs.push(p.child('names.kind').invalid(names.kind, 'must be a valid Go identifier-like kind name'));
  for (const [i, sn] of (names?.shortNames ?? []).entries()) for (const m of isDNS1035Label(sn)) errs.push(p.child('names.shortNames').index(i).invalid(sn, m));
  if (group && names?.plural && crd.metadata.name !== `${names.plural}.${group}`)
    errs.push(fieldPath('metadata.name').invalid(crd.metadata.name, 'must be spec.names.plural+"."+spec.group'));
  if (!versions?.length) errs.push(p.child('versions').required('must have exactly one version marked as storage version'));
  else {
    const storage = versions.filter((v) => v.storage).length;
    if (storage !== 1) errs.push(p.child('versions').invalid(versions.map((v) => v.name), 'must have exactly one version marked as storage version'));
    if (!versions.some((v) => v.served)) errs.push(p.child('versions').invalid(versions.map((v) => v.name), 'must have at least one version marked as served'));
    const seen = new Set<string>();
    versions.forEach((v, i) => {
      const vp = p.child('versions').index(i);
      for (const m of isDNS1035Label(v.name)) errs.push(vp.child('name').invalid(v.name, m));
      if (seen.has(v.name)) errs.push(vp.child('name').duplicate(v.name));
      seen.add(v.name);
      const schema = v.schema?.openAPIV3Schema;
      if (!schema) errs.push(vp.child('schema.openAPIV3Schema').required('schemas are required'));
      else errs.push(...validateStructural(schema, vp.child('schema.openAPIV3Schema')));
      const sc = v.subresources?.scale;
      if (sc) {
        if (!/^\.spec\./.test(sc.specReplicasPath)) errs.push(vp.child('subresources.scale.specReplicasPath').invalid(sc.specReplicasPath, 'should be a json path under .spec'));
        if (!/^\.status\./.test(sc.statusReplicasPath)) errs.push(vp.child('subresources.scale.statusReplicasPath').invalid(sc.statusReplicasPath, 'should be a json path under .status'));
      }
      (v.additionalPrinterColumns ?? []).forEach((c, j) => {
        const cp = vp.child('additionalPrinterColumns').index(j);
        if (!['integer', 'number', 'string', 'boolean', 'date'].includes(c.type)) errs.push(cp.child('type').notSupported(c.type, ['boolean', 'date', 'integer', 'number', 'string']));
        if (!c.jsonPath) errs.push(cp.child('jsonPath').required());
      });
    });
  }
  if (old?.spec) {
    if (old.spec.scope !== spec.scope) errs.push(p.child('scope').invalid(spec.scope, 'field is immutable'));
    if (old.spec.group !== spec.group) errs.push(p.child('group').invalid(spec.group, 'field is immutable'));
  }
  return errs;
}

/** What every custom object has at least; the rest is checked against the structural schema. */
const CustomObjectSchema = z.object({ apiVersion: z.string().optional(), kind: z.string().optional(), metadata: ObjectMetaSchema }).loose();

/** The part of a custom object the structural schema speaks about (everything but type and object meta). */
function bodyOf(obj: KubeObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = obj;
  return rest;
}

function bodySchema(schema: JSONSchemaProps): JSONSchemaProps {
  const { apiVersion: _a, kind: _k, metadata: _m, ...props } = schema.properties ?? {};
  return { ...schema, properties: props, required: (schema.required ?? []).filter((r) => r !== 'apiVersion' && r !== 'kind' && r !== 'metadata') };
}

/** The ResourceType that serves one version of a definition. */
export function customResourceType(crd: CustomResourceDefinition, v: CustomResourceDefinitionVersion): ResourceType {
  const spec = crd.spec;
  const schema: JSONSchemaProps = v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const body = bodySchema(schema);
  const storage = spec.versions.find((x) => x.storage)?.name ?? v.name;
  const subresources: string[] = [];
  if (v.subresources?.status) subresources.push('status');
  if (v.subresources?.scale) subresources.push('scale');
  return defineResource<KubeObject>({
    group: spec.group,
    version: v.name,
    kind: spec.names.kind,
    listKind: spec.names.listKind ?? `${spec.names.kind}List`,
    resource: spec.names.plural,
    singularName: spec.names.singular ?? spec.names.kind.toLowerCase(),
    namespaced: spec.scope === 'Namespaced',
    shortNames: spec.names.shortNames ?? [],
    categories: spec.names.categories ?? [],
    schema: CustomObjectSchema as unknown as z.ZodType<KubeObject>,
    subresources,
    hasStatus: !!v.subresources?.status,
    defaults(obj) {
      const b = bodyOf(obj);
      prune(b, body);
      applyDefaults(b, body);
      for (const k of Object.keys(obj)) if (k !== 'apiVersion' && k !== 'kind' && k !== 'metadata') delete obj[k];
      Object.assign(obj, b);
    },
    validate(obj) {
      return validateAgainstSchema(bodyOf(obj), body, fieldPath(''));
    },
    selectableFields: v.selectableFields?.length
      ? (o) => Object.fromEntries(v.selectableFields!.map((f) => [f.jsonPath.replace(/^\./, ''), String(valueAt(o, f.jsonPath) ?? '')]))
      : undefined,
    jsonSchema: schema,
    scale: v.subresources?.scale,
    printerColumns: v.additionalPrinterColumns,
    custom: true,
    storageVersion: storage,
  });
}

function valueAt(o: unknown, path: string): unknown {
  let cur = o;
  for (const seg of path.replace(/^\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** True when two definitions serve the same resources (no re-registration needed). */
export function sameServing(a: CustomResourceDefinition, b: CustomResourceDefinition): boolean {
  return jsonEqual(a.spec, b.spec);
}
