/**
 * Streaming protocols shared by the kubelet and the API server: HTTP upgrades, the WebSocket
 * channel protocols, SPDY/3.1, and the exec/attach and port-forward conversations over them.
 */
export * from './upgrade.js';
export * from './ws-channels.js';
export * from './remotecommand.js';
export * from './portforward.js';
export * from './spdy/frames.js';
export * from './spdy/compression.js';
export * from './spdy/session.js';
export { spdyHeaderDictionary } from './spdy/dictionary.js';
export * from './testing.js';
