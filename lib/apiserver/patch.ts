/** Applies a PATCH body of any supported type to the current object. */
import type { AnyResourceType, KubeObject } from '../api/index.js';
import { schemaNode } from '../api/index.js';
import { applyJSONPatch, applyMergePatch, applyStrategicMergePatch, newBadRequest, newUnsupportedMediaType } from '../machinery/index.js';
import type { BodyType } from './negotiation.js';

export function applyPatch(current: KubeObject, patch: unknown, type: BodyType, rt: AnyResourceType | undefined): KubeObject {
  switch (type) {
    case 'json-patch':
      return applyJSONPatch(current, patch) as KubeObject;
    case 'merge-patch':
      if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw newBadRequest('a merge patch must be a JSON object');
      return applyMergePatch(current, patch) as KubeObject;
    case 'strategic-merge-patch':
      if (rt?.custom) {
        throw newUnsupportedMediaType('application/strategic-merge-patch+json', ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
      }
      return applyStrategicMergePatch(current, patch, rt ? schemaNode(rt.schema) : undefined) as KubeObject;
    case 'apply-patch':
      // Only the scale subresource gets here: resources are applied with ownership by the
      // field manager (lib/registry/field-manager.ts); a Scale is merged as a plain patch.
      if (rt?.custom) return applyMergePatch(current, patch) as KubeObject;
      return applyStrategicMergePatch(current, patch, rt ? schemaNode(rt.schema) : undefined) as KubeObject;
    default:
      throw newBadRequest(`unsupported patch type ${type}`);
  }
}
