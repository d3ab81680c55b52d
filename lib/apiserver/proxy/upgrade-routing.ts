/**
 * Upgrade requests (exec, attach, port-forward: WebSocket or SPDY) go through the same route
 * as every other request, so that they are authenticated and authorized the same way.
 *
 * Node hands a request with `Connection: Upgrade` to the server's 'upgrade' event, with the
 * bare socket and no response object, and its HTTP parser lets go of the socket. Here such
 * requests get a ServerResponse on that socket and enter fastify's router. A handler that
 * upgrades takes the socket (reply.hijack()); any other answer is written as a normal
 * response, and the connection is then closed: a socket whose upgrade was refused is never
 * read again (so nothing sent after the refusal can reach a backend; CVE-2018-1002105).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';

/** Sockets taken by upgrades: closed with the server, since its connection tracking lost them. */
export class UpgradedConnections {
  private readonly sockets = new Set<Duplex>();

  add(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  get size(): number {
    return this.sockets.size;
  }

  closeAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

export function routeUpgradeRequests(app: FastifyInstance): UpgradedConnections {
  const connections = new UpgradedConnections();
  app.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    connections.add(socket);
    socket.on('error', () => undefined);
    if (head.length > 0) socket.unshift(head);
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.once('finish', () => {
      res.detachSocket(socket as Socket);
      socket.end();
      setTimeout(() => socket.destroy(), 5000).unref();
    });
    app.routing(req, res);
  });
  // Before the server waits for its connections: upgraded ones would keep it waiting.
  app.addHook('preClose', async () => connections.closeAll());
  return connections;
}
