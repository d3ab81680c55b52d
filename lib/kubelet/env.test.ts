import { describe, expect, it } from 'vitest';
import type { ConfigMap, Container, Pod, Secret, Service } from '../api/index.js';
import { containerResourceValue, ContainerConfigError, resolveContainerEnv, serviceEnvVars, servicesForPod, type EnvResolveContext } from './env.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function svc(ns: string, name: string, ip: string, ports: NonNullable<Service['spec']>['ports']): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports } };
}

const services: Service[] = [
  svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
  svc('shop', 'redis-primary', '10.96.3.4', [{ port: 6379, protocol: 'TCP' }]),
  svc('shop', 'web', '10.96.3.5', [
    { name: 'http', port: 80, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ]),
  svc('shop', 'headless', 'None', [{ port: 80 }]),
  svc('other', 'elsewhere', '10.96.9.9', [{ port: 80 }]),
];

const configMaps: Record<string, ConfigMap> = {
  'shop/app-config': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: 'shop' }, data: { LEVEL: 'debug', 'bad-key!': 'x', mode: 'fast' } },
};
const secrets: Record<string, Secret> = {
  'shop/creds': { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'shop' }, data: { password: b64('s3cret'), USER: b64('admin') } },
};

function ctx(over: Partial<EnvResolveContext> = {}): EnvResolveContext {
  return {
    podIPs: ['10.244.1.7'],
    hostIPs: ['192.0.2.10'],
    nodeName: 'node-a',
    nodeAllocatable: { cpu: '2', memory: '4Gi' },
    services,
    getConfigMap: async (ns, n) => configMaps[`${ns}/${n}`],
    getSecret: async (ns, n) => secrets[`${ns}/${n}`],
    ...over,
  };
}

function pod(containers: Container[], spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', uid: 'uid-1', labels: { app: 'web', tier: 'front' } }, spec: { containers, serviceAccountName: 'builder', ...spec } };
}

describe('service environment variables', () => {
  it('writes upstream names for the services of the pod namespace and the master service', () => {
    const vars = Object.fromEntries(serviceEnvVars(servicesForPod(pod([{ name: 'c' }]), services)).map((v) => [v.name, v.value]));
    expect(vars).toEqual({
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
      KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443',
      KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
      REDIS_PRIMARY_SERVICE_HOST: '10.96.3.4',
      REDIS_PRIMARY_SERVICE_PORT: '6379',
      REDIS_PRIMARY_PORT: 'tcp://10.96.3.4:6379',
      REDIS_PRIMARY_PORT_6379_TCP: 'tcp://10.96.3.4:6379',
      REDIS_PRIMARY_PORT_6379_TCP_PROTO: 'tcp',
      REDIS_PRIMARY_PORT_6379_TCP_PORT: '6379',
      REDIS_PRIMARY_PORT_6379_TCP_ADDR: '10.96.3.4',
      WEB_SERVICE_HOST: '10.96.3.5',
      WEB_SERVICE_PORT: '80',
      WEB_SERVICE_PORT_HTTP: '80',
      WEB_SERVICE_PORT_DNS: '53',
      WEB_PORT: 'tcp://10.96.3.5:80',
      WEB_PORT_80_TCP: 'tcp://10.96.3.5:80',
      WEB_PORT_80_TCP_PROTO: 'tcp',
      WEB_PORT_80_TCP_PORT: '80',
      WEB_PORT_80_TCP_ADDR: '10.96.3.5',
      WEB_PORT_53_UDP: 'udp://10.96.3.5:53',
      WEB_PORT_53_UDP_PROTO: 'udp',
      WEB_PORT_53_UDP_PORT: '53',
      WEB_PORT_53_UDP_ADDR: '10.96.3.5',
    });
  });

  it('keeps only the master service with enableServiceLinks false', () => {
    const names = servicesForPod(pod([{ name: 'c' }], { enableServiceLinks: false }), services).map((s) => s.metadata.name);
    expect(names).toEqual(['kubernetes']);
  });

  it('lets a service of the pod namespace named kubernetes win over the master service', () => {
    const own = svc('shop', 'kubernetes', '10.96.3.99', [{ port: 8443 }]);
    const got = servicesForPod(pod([{ name: 'c' }]), [...services, own]).find((s) => s.metadata.name === 'kubernetes');
    expect(got?.spec?.clusterIP).toBe('10.96.3.99');
  });
});

describe('resolveContainerEnv', () => {
  it('resolves envFrom, env sources and $(VAR) references in order, then service variables not overridden', async () => {
    const c: Container = {
      name: 'app',
      resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m' } },
      envFrom: [{ configMapRef: { name: 'app-config' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'mode' } } },
        { name: 'URL', value: 'http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)/$(POD_NAME)?$(UNKNOWN)&$$(ESCAPED)' },
        { name: 'WEB_SERVICE_PORT', value: '8080' },
      ],
    };
    const { env, warnings } = await resolveContainerEnv(pod([c]), c, ctx());
    const m = Object.fromEntries(env.map((e) => [e.name, e.value]));
    expect(m).toMatchObject({
      CFG_LEVEL: 'debug',
      CFG_mode: 'fast',
      USER: 'admin',
      password: 's3cret',
      POD_NAME: 'web-1',
      POD_IP: '10.244.1.7',
      NODE: 'node-a',
      TIER: 'front',
      SA: 'builder',
      MEM_MI: '64',
      CPU_M: '250',
      CPU_LIMIT: '2',
      PASS: 's3cret',
      MODE: 'fast',
      URL: 'http://10.96.3.5:80/web-1?$(UNKNOWN)&$(ESCAPED)',
      WEB_SERVICE_PORT: '8080',
      WEB_SERVICE_HOST: '10.96.3.5',
    });
    expect(env.filter((e) => e.name === 'WEB_SERVICE_PORT')).toHaveLength(1);
    // The container's own variables come before the service ones.
    expect(env.findIndex((e) => e.name === 'URL')).toBeLessThan(env.findIndex((e) => e.name === 'KUBERNETES_SERVICE_HOST'));
    expect(warnings).toEqual(['Keys [bad-key!] from the EnvFrom configMap shop/app-config were skipped since they are considered invalid environment variable names.']);
  });

  it.each([
    [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k' } } }, 'configmap "missing" not found'],
    [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'nope' } } }, "couldn't find key nope in ConfigMap shop/app-config"],
    [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }, "couldn't find key nope in Secret shop/creds"],
    [{ name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }, 'secret "gone" not found'],
  ])('a missing source is a config error: %j', async (e, msg) => {
    const c: Container = { name: 'app', env: [e] };
    await expect(resolveContainerEnv(pod([c]), c, ctx())).rejects.toThrow(new ContainerConfigError(msg));
  });

  it('accepts missing optional sources', async () => {
    const c: Container = {
      name: 'app',
      envFrom: [{ configMapRef: { name: 'missing', optional: true } }],
      env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'nope', optional: true } } }],
    };
    const { env } = await resolveContainerEnv(pod([c]), c, ctx({ services: [] }));
    expect(env).toEqual([{ name: 'X', value: '' }]);
  });
});

describe('containerResourceValue', () => {
  it.each([
    [{ limits: { cpu: '1500m' } }, 'limits.cpu', undefined, '2'],
    [{ limits: { cpu: '1500m' } }, 'limits.cpu', '1m', '1500'],
    [{ requests: { memory: '100Mi' } }, 'requests.memory', '1Mi', '100'],
    [{}, 'limits.memory', '1Gi', '4'],
    [{}, 'requests.cpu', undefined, '0'],
  ])('%j %s / %s = %s', (resources, res, divisor, want) => {
    expect(containerResourceValue({ name: 'c', resources }, res, divisor, { cpu: '2', memory: '4Gi' })).toBe(want);
  });
});
