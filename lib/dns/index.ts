/**
 * lib/dns: the cluster DNS add-on core. `DnsServer` (UDP + TCP) answers the cluster zone from
 * `ClusterDnsRecords` (Services + EndpointSlices → records, per the Kubernetes DNS specification)
 * and forwards other names to the upstream resolvers of a resolv.conf.
 */
export { DnsServer, type DnsServerOptions } from './server.js';
export { ClusterDnsRecords, reverseName, dashedIP, schemaVersion, type ClusterDnsOptions, type DnsState, type LookupResult } from './records.js';
export { Forwarder, ForwardError, parseResolvConf, readResolvConf, parseUpstream, type Upstream, type ForwarderOptions } from './forwarder.js';
export { DnsAddon, type DnsAddonOptions } from './addon.js';
