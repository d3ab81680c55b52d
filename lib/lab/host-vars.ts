/**
 * Where a host keeps its files (its layout) and the variables its units are rendered with.
 * A VM uses the usual system paths; the single-machine lab puts each host under its state
 * folder. Everything else (flags, addresses, which units) is the same for both.
 */
import path from 'node:path';
import { apiserverURLFor, etcdInitialCluster, etcdServersFor, type ClusterPlan, type HostPlan } from './plan.js';
import { apiserverSecurityFlags, controllerManagerSecurityFlags, etcdScheme, etcdSecurityFlags, kubeletSecurityFlags, type SecurityMode } from './security.js';

export interface HostLayout {
  /** The tkube checkout with dist/ built (units run ${TKUBE_HOME}/dist/cmd/<program>/main.js). */
  tkubeHome: string;
  /** The Node.js binary. */
  node: string;
  etcdBin: string;
  /** This host's certificates (the cluster CA's certificate, the API server's serving pair, ...). */
  pkiDir: string;
  /** This host's component kubeconfigs. */
  kubeconfigDir: string;
  etcdDataDir: string;
  kubeletRootDir: string;
  /** The Docker Engine socket the kubelet uses, as unix:///path. */
  containerRuntimeEndpoint: string;
  resolvConf: string;
}

/** A VM (or any machine) provisioned with systemd units. */
export function systemLayout(tkubeHome = '/opt/tkube'): HostLayout {
  return {
    tkubeHome,
    node: '/usr/bin/node',
    etcdBin: '/usr/bin/etcd',
    pkiDir: '/etc/tkube/pki',
    kubeconfigDir: '/etc/tkube',
    etcdDataDir: '/var/lib/tkube/etcd',
    kubeletRootDir: '/var/lib/tkube-kubelet',
    containerRuntimeEndpoint: 'unix:///var/run/docker.sock',
    resolvConf: '/etc/resolv.conf',
  };
}

/** A host of the single-machine lab: everything under <state>/hosts/<name>. */
export function labLayout(stateDir: string, host: string, tkubeHome: string, node = process.execPath): HostLayout {
  const dir = labHostDir(stateDir, host);
  return {
    tkubeHome,
    node,
    etcdBin: '/usr/bin/etcd',
    pkiDir: path.join(dir, 'pki'),
    kubeconfigDir: path.join(dir, 'kubeconfigs'),
    etcdDataDir: path.join(dir, 'etcd'),
    kubeletRootDir: path.join(dir, 'kubelet'),
    containerRuntimeEndpoint: `unix://${path.join(dir, 'docker.sock')}`,
    resolvConf: path.join(dir, 'resolv.conf'),
  };
}

export function labHostDir(stateDir: string, host: string): string {
  return path.join(stateDir, 'hosts', host);
}

/** The variables of deploy/systemd/*.service for one host. */
export function hostVariables(plan: ClusterPlan, host: HostPlan, layout: HostLayout, security: SecurityMode): Record<string, string> {
  const s = plan.spec;
  return {
    CLUSTER_NAME: s.clusterName,
    NODE_NAME: host.name,
    NODE_IP: host.ip,
    NODE: layout.node,
    TKUBE_HOME: layout.tkubeHome,
    ETCD_BIN: layout.etcdBin,
    ETCD_NAME: host.name,
    ETCD_DATA_DIR: layout.etcdDataDir,
    ETCD_INITIAL_CLUSTER: etcdInitialCluster(plan, etcdScheme(security)),
    ETCD_SERVERS: etcdServersFor(plan, host, etcdScheme(security)),
    ETCD_SCHEME: etcdScheme(security),
    ETCD_SECURITY_FLAGS: etcdSecurityFlags(security, layout.pkiDir, host.name).join(' '),
    APISERVER_PORT: String(s.apiserverPort),
    APISERVER_URL: apiserverURLFor(plan, host),
    APISERVER_SECURITY_FLAGS: apiserverSecurityFlags(security, layout.pkiDir, s.clusterDomain).join(' '),
    KUBELET_SECURITY_FLAGS: kubeletSecurityFlags(security, layout.pkiDir, host.name).join(' '),
    CONTROLLER_MANAGER_SECURITY_FLAGS: controllerManagerSecurityFlags(security, layout.pkiDir).join(' '),
    PKI_DIR: layout.pkiDir,
    KUBECONFIG_DIR: layout.kubeconfigDir,
    SERVICE_CIDR: s.serviceCIDR,
    CLUSTER_CIDR: s.clusterCIDR,
    CLUSTER_DNS: s.clusterDNS,
    CLUSTER_DOMAIN: s.clusterDomain,
    KUBELET_ROOT_DIR: layout.kubeletRootDir,
    CONTAINER_RUNTIME_ENDPOINT: layout.containerRuntimeEndpoint,
    RESOLV_CONF: layout.resolvConf,
  };
}
