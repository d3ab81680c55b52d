/**
 * ServiceAccount: every pod runs as a service account (`default` unless it names one), which
 * must exist; unless either says not to, the pod gets the account's API credentials as a
 * projected volume `kube-api-access-<random>`:
 *
 *   token      a bound service account token (the kubelet requests and refreshes it)
 *   ca.crt     from the ConfigMap kube-root-ca.crt
 *   namespace  from the downward API
 *
 * mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container. The
 * account's imagePullSecrets are added to pods that have none. Mirror pods (static pods) may not
 * use service accounts or secrets.
 *
 * Upstream leaves creating each namespace's `default` account to a controller; tkube's API
 * server creates it when the first pod needs it, so pods never race that controller.
 */
import type { Logger } from 'pino';
import type { Pod, ServiceAccount } from '../../api/index.js';
import { isAlreadyExists } from '../../machinery/index.js';
import { newContext, randomNameSuffix, type Registry } from '../../registry/index.js';
import { markMutated, type AdmissionPlugin } from './chain.js';
import { admissionForbidden, isPodCreate, lookup } from './lookup.js';

export const serviceAccountMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
export const rootCAConfigMap = 'kube-root-ca.crt';
export const mirrorPodAnnotation = 'kubernetes.io/config.mirror';
const volumePrefix = 'kube-api-access-';
/** One hour plus a few seconds, as upstream: the kubelet refreshes the token long before. */
const tokenExpirationSeconds = 3607;


type Spec = NonNullable<Pod['spec']>;
type Container = Spec['containers'][number];

function allContainers(spec: Spec): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

function referencesSecrets(spec: Spec): boolean {
  if ((spec.imagePullSecrets ?? []).length) return true;
  for (const v of spec.volumes ?? []) if (v.secret || v.projected?.sources?.some((s) => s.secret || s.serviceAccountToken)) return true;
  for (const c of allContainers(spec)) {
    if ((c.env ?? []).some((e) => e.valueFrom?.secretKeyRef)) return true;
    if ((c.envFrom ?? []).some((e) => e.secretRef)) return true;
  }
  return false;
}

export function serviceAccount(registry: Registry, log: Logger): AdmissionPlugin {
  const ensureDefault = async (namespace: string): Promise<ServiceAccount | null> => {
    const store = registry.mustGet('', 'serviceaccounts');
    const ctx = newContext({ namespace, user: { username: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] } });
    try {
      const created = (await store.create(ctx, store.decode({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } }))) as ServiceAccount;
      log.info({ namespace }, 'created the default service account');
      return created;
    } catch (err) {
      if (isAlreadyExists(err)) return lookup<ServiceAccount>(registry, '', 'serviceaccounts', namespace, 'default');
      throw err;
    }
  };

  return {
    name: 'ServiceAccount',
    async mutate(a) {
      if (!isPodCreate(a)) return;
      const pod = a.object as Pod;
      const spec = (pod.spec ??= {} as Spec);
      if (pod.metadata.annotations?.[mirrorPodAnnotation] !== undefined) {
        if (spec.serviceAccountName) throw admissionForbidden(a, 'a mirror pod may not reference service accounts');
        if (referencesSecrets(spec)) throw admissionForbidden(a, 'a mirror pod may not reference secrets');
        return;
      }
      spec.serviceAccountName ||= 'default';
      markMutated(a.object, ['spec', 'serviceAccountName']);
      const name = spec.serviceAccountName;
      let sa = await lookup<ServiceAccount>(registry, '', 'serviceaccounts', a.namespace, name);
      if (!sa && name === 'default' && !a.dryRun) sa = await ensureDefault(a.namespace);
      if (!sa) throw admissionForbidden(a, `error looking up service account ${a.namespace}/${name}: serviceaccount "${name}" not found`);

      if (!(spec.imagePullSecrets ?? []).length && (sa.imagePullSecrets ?? []).length) {
        spec.imagePullSecrets = structuredClone(sa.imagePullSecrets);
        markMutated(a.object, ['spec', 'imagePullSecrets']);
      }

      const automount = spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
      if (!automount) return;
      const containers = allContainers(spec);
      const needing = containers.filter((c) => !(c.volumeMounts ?? []).some((m) => m.mountPath === serviceAccountMountPath));
      if (needing.length === 0) return;
      // Reuse an existing kube-api-access volume (a pod created from a copied spec), else add one.
      let volume = (spec.volumes ?? []).find((v) => v.name.startsWith(volumePrefix) && v.projected);
      if (!volume) {
        let vname = `${volumePrefix}${randomNameSuffix()}`;
        while ((spec.volumes ?? []).some((v) => v.name === vname)) vname = `${volumePrefix}${randomNameSuffix()}`;
        volume = {
          name: vname,
          projected: {
            defaultMode: 0o644,
            sources: [
              { serviceAccountToken: { expirationSeconds: tokenExpirationSeconds, path: 'token' } },
              { configMap: { name: rootCAConfigMap, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        };
        spec.volumes = [...(spec.volumes ?? []), volume];
        markMutated(a.object, ['spec', 'volumes']);
      }
      for (const list of ['initContainers', 'containers'] as const) {
        spec[list]?.forEach((c, i) => {
          if (!needing.includes(c)) return;
          c.volumeMounts = [...(c.volumeMounts ?? []), { name: volume.name, readOnly: true, mountPath: serviceAccountMountPath }];
          markMutated(a.object, ['spec', list, i, 'volumeMounts']);
        });
      }
    },
  };
}
