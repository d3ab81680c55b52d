/**
 * APIServer: the runnable tkube-apiserver. Builds storage (etcd), the registry with its watch
 * caches, the request chain (authentication → authorization → admission), serves the insecure
 * and secure ports, and keeps the bootstrap objects in place.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { MetricsRegistry, waitForAbort, type Runnable } from '../base/index.js';
import { Etcd3Storage, encryptionTransformer, loadEncryptionConfig, type Storage } from '../storage/index.js';
import { Registry } from '../registry/index.js';
import { alwaysAllow, fixedUserAuthenticator, insecureUser, type Authenticator, type Authorizer } from './auth.js';
import { Security, type SecurityOptions } from './security.js';
import { runBootstrap } from './bootstrap.js';
import { syncAPIServices } from './apiservices.js';
import { CRDController } from './crd-controller.js';
import { componentStatusProvider, defaultComponentProbes, type ComponentProbe } from './component-status.js';
import { OpenAPIGenerator, reviewResources } from '../api/index.js';
import { openAPIPathHandler } from './openapi.js';
import { createAPIServer, type APIServerConfig, type VersionInfo } from './server.js';
import { kubeletAPIs, type KubeletAPIs, type KubeletClientConfig } from './proxy/index.js';

export const tkubeVersion = '0.1.0';

export function versionInfo(): VersionInfo {
  return {
    major: '1',
    minor: '32',
    gitVersion: `v1.32.0-tkube.${tkubeVersion}`,
    gitCommit: process.env.TKUBE_GIT_COMMIT ?? 'unknown',
    gitTreeState: 'clean',
    buildDate: '2026-11-22T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${os.platform()}/${os.arch() === 'x64' ? 'amd64' : os.arch()}`,
  };
}

export interface APIServerOptions extends SecurityOptions {
  etcdServers: string[];
  /** --etcd-cafile: the CA that signs etcd's serving certificates. */
  etcdCAFile?: string;
  /** --etcd-certfile, --etcd-keyfile: the client certificate etcd asks for (--client-cert-auth). */
  etcdCertFile?: string;
  etcdKeyFile?: string;
  etcdPrefix: string;
  /** Called once every port is listening (a --workers supervisor waits for it). */
  onServing?: () => void;
  /** More /readyz and /healthz checks (a --workers worker's). */
  extraHealthChecks?: { name: string; check: () => Promise<void> }[];
  serviceClusterIPRange: string;
  serviceNodePortRange: string;
  bindAddress: string;
  securePort: number;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  certDir: string;
  insecurePort: number;
  insecureBindAddress: string;
  advertiseAddress: string;
  anonymousAuth: boolean;
  authorizationMode: string[];
  enableAdmissionPlugins: string[];
  disableAdmissionPlugins: string[];
  eventTTLSeconds: number;
  minRequestTimeoutSeconds: number;
  requestTimeoutMs: number;
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
  watchCacheCapacity?: number;
  bookmarkIntervalMs?: number;
  log: Logger;
  /** A log line for every request (--v=3 and above, as upstream's httplog). */
  logRequests?: boolean;
  /** What `componentstatuses` probes (default: etcd members, scheduler and controller manager on loopback). */
  componentProbes?: ComponentProbe[];
  /** --encryption-provider-config: resources encrypted at rest (lib/storage/encryption). */
  encryptionProviderConfig?: string;
  /**
   * Credentials towards kubelets (--kubelet-client-certificate, --kubelet-client-key,
   * --kubelet-certificate-authority), for the node proxy and pods/log, exec, attach, port-forward
   * once the kubelet serves them: dial with lib/apiserver/proxy/upgrade.ts.
   */
  kubeletClientCertificate?: string;
  kubeletClientKey?: string;
  kubeletCertificateAuthority?: string;
  /** --kubelet-preferred-address-types (default Hostname, InternalDNS, InternalIP, ExternalDNS, ExternalIP). */
  kubeletPreferredAddressTypes?: string[];
  /** Use this storage instead of connecting to etcd (tests). */
  storage?: Storage;
  /** How to reach kubelets (--kubelet-preferred-address-types, --kubelet-certificate-authority, ...). */
  kubeletClient?: KubeletClientConfig;
}

/** Reads --etcd-cafile, --etcd-certfile and --etcd-keyfile (a certificate and its key come together). */
export function etcdTLSFiles(o: Pick<APIServerOptions, 'etcdCAFile' | 'etcdCertFile' | 'etcdKeyFile'>): { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined {
  if (!!o.etcdCertFile !== !!o.etcdKeyFile) throw new Error('--etcd-certfile and --etcd-keyfile must be given together');
  if (!o.etcdCAFile && !o.etcdCertFile) return undefined;
  const read = (flag: string, file: string) => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`${flag}=${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    ca: o.etcdCAFile ? read('--etcd-cafile', o.etcdCAFile) : undefined,
    cert: o.etcdCertFile ? read('--etcd-certfile', o.etcdCertFile) : undefined,
    key: o.etcdKeyFile ? read('--etcd-keyfile', o.etcdKeyFile) : undefined,
  };
}

/** Loopback only: the insecure port has no authentication and must never face a network. */
export function isLoopback(addr: string): boolean {
  return addr === 'localhost' || addr === '::1' || /^127\.\d+\.\d+\.\d+$/.test(addr);
}

export class APIServer implements Runnable {
  readonly metrics = new MetricsRegistry();
  readonly storage: Storage;
  readonly registry: Registry;
  readonly app: FastifyInstance;
  private secureApp?: FastifyInstance;
  /** Authentication, authorization, admission and their loops (security.ts). */
  readonly security: Security;
  private readonly log: Logger;
  /** Ports actually bound (useful with port 0 in tests). */
  insecureAddress?: { host: string; port: number };
  secureAddress?: { host: string; port: number };
  private readonly ready: Promise<void>;
  private resolveReady!: () => void;
  /** pods/log, exec, attach, portforward, nodes/proxy and metrics.k8s.io, served from kubelets. */
  readonly kubelet: KubeletAPIs;
  /** /openapi/v2 and /openapi/v3: documents of whatever the registry serves at the time of the request. */
  private readonly openAPI = openAPIPathHandler({
    generator: new OpenAPIGenerator({ title: 'tkube', version: versionInfo().gitVersion }),
    resourceTypes: () => [...this.registry.all().map((s) => s.rt), ...reviewResources],
  });

  constructor(private readonly o: APIServerOptions) {
    this.log = o.log;
    if (o.insecurePort > 0 && !isLoopback(o.insecureBindAddress)) {
      throw new Error(`--insecure-bind-address=${o.insecureBindAddress} is refused: the insecure port has no authentication and may only listen on loopback (127.0.0.1)`);
    }
    const etcdLatency = this.metrics.histogram('etcd_request_duration_seconds', 'etcd request latency by operation.');
    // Encryption at rest: the key of a value names its resource (resolved once the registry exists).
    const transformer = o.encryptionProviderConfig ? encryptionTransformer(loadEncryptionConfig(o.encryptionProviderConfig), (key) => this.resourceOfKey(key)) : undefined;
    const etcdTLS = etcdTLSFiles(o);
    this.storage = o.storage ?? new Etcd3Storage({ endpoints: o.etcdServers, log: o.log.child({ part: 'etcd' }), observe: (op, s) => etcdLatency.observe({ operation: op }, s), transformer, tls: etcdTLS });
    this.registry = new Registry({
      storage: this.storage,
      log: o.log.child({ part: 'registry' }),
      prefix: o.etcdPrefix,
      serviceCIDR: o.serviceClusterIPRange,
      nodePortRange: o.serviceNodePortRange,
      eventTTLSeconds: o.eventTTLSeconds,
      watchCacheCapacity: o.watchCacheCapacity,
    });
    this.security = new Security(o, this.registry, o.log.child({ part: 'security' }), this.metrics);
    this.registry.setAdmission(this.security.admission);
    const readIf = (f?: string) => (f ? fs.readFileSync(f) : undefined);
    const kubeletClient: KubeletClientConfig = o.kubeletClient ?? {
      preferredAddressTypes: o.kubeletPreferredAddressTypes,
      ca: readIf(o.kubeletCertificateAuthority),
      cert: readIf(o.kubeletClientCertificate),
      key: readIf(o.kubeletClientKey),
    };
    this.kubelet = kubeletAPIs({ registry: this.registry, log: o.log.child({ part: 'kubelet-proxy' }), client: kubeletClient });
    this.ready = new Promise((r) => (this.resolveReady = r));
    const objects = this.metrics.gauge('apiserver_storage_objects', 'Objects held in the watch cache, by resource.');
    objects.collect(() => this.registry.all().map((s) => [{ resource: s.rt.group ? `${s.rt.resource}.${s.rt.group}` : s.rt.resource }, s.cache?.size ?? 0]));
    this.app = createAPIServer(this.config([fixedUserAuthenticator(insecureUser)], true, alwaysAllow));
  }

  /** The resource an etcd key belongs to, by the registry's key layout. */
  private resourceOfKey(key: string): { resource: string; group: string } | undefined {
    const store = this.registry?.storeOfKey(key);
    return store ? { resource: store.rt.resource, group: store.rt.group } : undefined;
  }

  private config(authenticators: Authenticator[], anonymous: boolean, authorizer: Authorizer): APIServerConfig {
    const o = this.o;
    return {
      registry: this.registry,
      log: this.log.child({ part: 'http' }),
      logRequests: o.logRequests,
      metrics: this.metrics,
      authenticators,
      anonymousAuth: anonymous,
      authorizer,
      version: versionInfo(),
      healthChecks: [
        { name: 'etcd', check: () => this.storage.currentRevision().then(() => undefined) },
        { name: 'informer-sync', check: async () => void (await this.ready) },
        ...(o.extraHealthChecks ?? []),
      ],
      serverAddress: `${o.advertiseAddress}:${o.securePort || o.insecurePort}`,
      minRequestTimeoutSeconds: o.minRequestTimeoutSeconds,
      requestTimeoutMs: o.requestTimeoutMs,
      maxRequestsInflight: o.maxRequestsInflight,
      maxMutatingRequestsInflight: o.maxMutatingRequestsInflight,
      bookmarkIntervalMs: o.bookmarkIntervalMs,
      pathHandlers: [this.openAPI, ...this.security.pathHandlers()],
      apiGroupHandlers: this.kubelet.apiGroupHandlers,
      componentStatuses: componentStatusProvider(o.componentProbes ?? defaultComponentProbes(o.etcdServers, etcdTLSFiles(o))),
      resourceTypes: () => reviewResources,
      virtualResources: this.security.virtualResources(),
      subresources: { ...this.security.subresources(), ...this.kubelet.subresources },
    };
  }

  private tlsMaterial(): { cert: Buffer; key: Buffer } {
    const o = this.o;
    if (o.tlsCertFile && o.tlsPrivateKeyFile) return { cert: fs.readFileSync(o.tlsCertFile), key: fs.readFileSync(o.tlsPrivateKeyFile) };
    // As upstream: without a certificate, generate a self-signed one in --cert-dir.
    const cert = path.join(o.certDir, 'apiserver.crt');
    const key = path.join(o.certDir, 'apiserver.key');
    if (!fs.existsSync(cert) || !fs.existsSync(key)) {
      fs.mkdirSync(o.certDir, { recursive: true, mode: 0o700 });
      const san = `subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:${this.registry.allocators.kubernetesServiceIP}${o.advertiseAddress && o.advertiseAddress !== '127.0.0.1' ? `,IP:${o.advertiseAddress}` : ''}`;
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '365', '-subj', '/CN=tkube-apiserver', '-addext', san], { stdio: 'ignore' });
      fs.chmodSync(key, 0o600);
      this.log.info({ cert, key }, 'generated a self-signed serving certificate');
    }
    return { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
  }

  async start(signal: AbortSignal): Promise<void> {
    const o = this.o;
    await this.registry.start();
    // Custom resources are served before the first request is answered.
    const crds = new CRDController(this.registry, this.log.child({ part: 'crd-controller' }));
    await crds.syncAll();
    const crdLoop = crds.start(signal);
    await this.security.bootstrapPolicy(signal);
    const securityLoops = this.security.runControllers(signal);
    this.resolveReady();
    const bootstrapLog = this.log.child({ part: 'bootstrap' });
    const served = () => [...this.registry.all().map((st) => st.rt), ...reviewResources, ...this.kubelet.apiGroupHandlers.flatMap((g) => g.resourceTypes)].map((rt) => ({ group: rt.group, version: rt.version, custom: rt.custom }));
    const bootstrap = runBootstrap(
      {
        registry: this.registry,
        log: bootstrapLog,
        advertiseAddress: o.advertiseAddress,
        advertisePort: o.securePort || o.insecurePort,
        also: () => syncAPIServices(this.registry, served(), bootstrapLog),
      },
      signal,
    );
    if (o.insecurePort >= 0 && (o.insecurePort > 0 || o.securePort === 0)) {
      await this.app.listen({ host: o.insecureBindAddress, port: o.insecurePort });
      const a = this.app.server.address() as { address: string; port: number };
      this.insecureAddress = { host: a.address, port: a.port };
      this.log.warn({ address: `http://${a.address}:${a.port}` }, 'serving insecurely on loopback: no authentication, no authorization');
    }
    if (o.securePort > 0) {
      const tls = this.tlsMaterial();
      const sec = this.security;
      this.secureApp = createAPIServer({
        ...this.config(sec.authenticators(), o.anonymousAuth, sec.authorizer),
        impersonate: sec.impersonator(),
        tls: { ...tls, ca: sec.clientCA },
      });
      await this.secureApp.listen({ host: o.bindAddress, port: o.securePort });
      const server = this.secureApp.server;
      const a = server.address() as { address: string; port: number };
      this.secureAddress = { host: a.address, port: a.port };
      this.log.info({ address: `https://${a.address}:${a.port}` }, 'serving securely');
    }
    this.log.info('tkube-apiserver ready');
    o.onServing?.();
    await waitForAbort(signal);
    await bootstrap;
    await crdLoop;
    await Promise.all(securityLoops);
    this.registry.stop();
    await this.app.close();
    await this.secureApp?.close();
    await this.storage.close();
  }

  /** Resolves once the watch caches are filled. */
  whenReady(): Promise<void> {
    return this.ready;
  }
}
