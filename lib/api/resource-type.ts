import type { z } from 'zod';
import type { FieldError } from '../machinery/index.js';
import type { KubeObject } from './meta/v1.js';
import type { JSONSchemaProps } from './apiextensions/v1.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
export const allVerbs: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/**
 * Everything the API machinery knows about one served kind: where it lives in the URL
 * space, how it is named, its schema, its defaults and its validation. The registry adds
 * storage behaviour on top (lib/registry); the API server serves it (lib/apiserver).
 *
 * Contract: `defaults` mutates in place and is idempotent; `validate` never mutates and
 * returns field errors with full paths from the object root (`spec.containers[0].image`).
 */
export interface ResourceType<T extends KubeObject = KubeObject> {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** The plural resource name in URLs, e.g. `pods`. */
  resource: string;
  singularName: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: Verb[];
  /** The whole object's schema (apiVersion, kind, metadata, spec, status...). */
  schema: z.ZodType<T>;
  /** Subresources served: status, scale, binding, eviction, log, exec, attach, portforward, proxy, finalize... */
  subresources: string[];
  /** Name format: DNS-1123 subdomain (most kinds), DNS-1123 label (namespaces), DNS-1035 label (services). */
  nameFormat: 'subdomain' | 'label' | 'dns1035' | 'path-segment';
  /** Fills in defaults, as upstream's defaulting functions. */
  defaults?(obj: T): void;
  /** Semantic checks beyond the schema's structure. `old` is set on update. */
  validate?(obj: T, old?: T): FieldError[];
  /** Extra field-selector fields beyond metadata.name and metadata.namespace. */
  selectableFields?(obj: T): Record<string, string>;
  /**
   * Which top-level fields are spec (bumping generation when changed and preserved by
   * status updates). Defaults to everything but apiVersion, kind, metadata and status.
   */
  hasStatus?: boolean;
  /**
   * Custom resources only: the structural schema of the version, used instead of `schema` for
   * validation, pruning, defaults, unknown-field checks and OpenAPI.
   */
  jsonSchema?: JSONSchemaProps;
  /** Where the scale subresource reads and writes replicas (default .spec.replicas / .status.replicas). */
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  /** Custom resources only: the columns `kubectl get` prints (additionalPrinterColumns). */
  printerColumns?: { name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }[];
  /** Served from a CustomResourceDefinition (no strategic merge patch, JSON storage under the group). */
  custom?: boolean;
  /** The version objects are stored in (custom resources with several versions); default `version`. */
  storageVersion?: string;
  /**
   * The key segment in storage, when it is not `resource`: two groups that serve the same
   * resource name in different shapes must not share keys (events.k8s.io events).
   */
  storageResource?: string;
  /**
   * Built-in kinds served in a version whose shape differs from the stored one (autoscaling/v1
   * HorizontalPodAutoscalers, stored as v2): converts objects between the two. With it,
   * `validate` runs on the stored form, and `defaults` and `schema` on the served one.
   */
  convert?: { toStorage(obj: KubeObject): KubeObject; fromStorage(obj: KubeObject): KubeObject };
}

export type AnyResourceType = ResourceType<any>;

/** Shorthand to declare a resource type with upstream's usual defaults filled in. */
export function defineResource<T extends KubeObject>(
  r: Omit<ResourceType<T>, 'listKind' | 'singularName' | 'verbs' | 'shortNames' | 'categories' | 'subresources' | 'nameFormat'> &
    Partial<Pick<ResourceType<T>, 'listKind' | 'singularName' | 'verbs' | 'shortNames' | 'categories' | 'subresources' | 'nameFormat'>>,
): ResourceType<T> {
  return {
    listKind: `${r.kind}List`,
    singularName: r.kind.toLowerCase(),
    verbs: allVerbs,
    shortNames: [],
    categories: [],
    subresources: [],
    nameFormat: 'subdomain',
    ...r,
  };
}
