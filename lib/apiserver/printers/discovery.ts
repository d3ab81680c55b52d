/** Printer for discovery.k8s.io/v1 EndpointSlices. */
import type { EndpointSlice } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter, listWithMore } from './table.js';

/** PORTS of a slice: numbers (or names), `*` for all ports; up to three. */
export function slicePorts(slice: EndpointSlice): string {
  const ports = slice.ports ?? [];
  const list = ports.map((p) => (p.port !== undefined ? String(p.port) : p.name !== undefined ? p.name : '*'));
  return listWithMore(list, ports.length, 3, '<unset>');
}

/** ENDPOINTS of a slice: up to three addresses, then `+ N more...`. */
export function sliceEndpoints(slice: EndpointSlice): string {
  const all = (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
  return listWithMore(all, all.length, 3, '<unset>');
}

registerPrinter('discovery.k8s.io', 'endpointslices', {
  columns: [
    nameColumn,
    { name: 'AddressType', type: 'string', description: 'IPv4, IPv6 or FQDN.' },
    { name: 'Ports', type: 'string', description: 'Ports of the endpoints.' },
    { name: 'Endpoints', type: 'string', description: 'Addresses of the endpoints.' },
    ageColumn,
  ],
  row(o, now) {
    const s = o as EndpointSlice;
    return [s.metadata.name, s.addressType, slicePorts(s), sliceEndpoints(s), age(s.metadata.creationTimestamp, now)];
  },
});
