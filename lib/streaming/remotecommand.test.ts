import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { acceptRemoteCommand, outcomeStatus, parseRemoteCommandOptions, TerminalSizeDecoder, type RemoteCommandOutcome, type TerminalSize } from './remotecommand.js';
import { collect, spdyClient } from './testing.js';
import { newWebSocketServer } from './upgrade.js';
import { decodeChannelMessage, encodeChannelMessage, negotiateSubprotocol } from './ws-channels.js';

describe('remote command options', () => {
  it.each([
    ['input=1&output=1&error=1', { stdin: true, stdout: true, stderr: true, tty: false }],
    ['stdin=true&stdout=true&stderr=true&tty=true', { stdin: true, stdout: true, stderr: false, tty: true }],
    ['output=1', { stdin: false, stdout: true, stderr: false, tty: false }],
  ])('%s', (q, want) => expect(parseRemoteCommandOptions(new URLSearchParams(q))).toEqual(want));

  it('needs one of stdin, stdout, stderr', () => {
    expect(() => parseRemoteCommandOptions(new URLSearchParams('tty=1'))).toThrow('you must specify at least 1 of stdin, stdout, stderr');
  });
});

describe('terminal sizes', () => {
  it('reads JSON objects however they are cut', () => {
    const d = new TerminalSizeDecoder();
    expect(d.push('{"Width":80,"Hei')).toEqual([]);
    expect(d.push('ght":24}\n{"Width":100,"Height":30}\n{')).toEqual([
      { width: 80, height: 24 },
      { width: 100, height: 30 },
    ]);
    expect(d.push('"Width":1,"Height":2}')).toEqual([{ width: 1, height: 2 }]);
  });
});

describe('error stream statuses', () => {
  it('carry the exit code as an ExitCode cause, as client-go reads it', () => {
    expect(outcomeStatus({ kind: 'success' })).toEqual({ metadata: {}, status: 'Success' });
    expect(outcomeStatus({ kind: 'exit', code: 3, command: ['sh', '-c', 'exit 3'] })).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(outcomeStatus({ kind: 'error', message: 'boom' })).toMatchObject({ status: 'Failure', reason: 'InternalError', code: 500, message: 'Internal error occurred: boom' });
  });
});

describe('WebSocket channel messages', () => {
  it('prefix a channel byte (binary) or a digit and base64 (text)', () => {
    expect(encodeChannelMessage(1, Buffer.from('hi'), false)).toEqual(Buffer.from([1, 104, 105]));
    expect(encodeChannelMessage(2, Buffer.from('hi'), true)).toBe('2aGk=');
    expect(decodeChannelMessage(Buffer.from([0, 104]), { base64: false, closeSignal: true })).toEqual({ kind: 'data', channel: 0, data: Buffer.from('h') });
    expect(decodeChannelMessage(Buffer.from('0aGk='), { base64: true, closeSignal: false })).toEqual({ kind: 'data', channel: 0, data: Buffer.from('hi') });
    expect(decodeChannelMessage(Buffer.from([255, 0]), { base64: false, closeSignal: true })).toEqual({ kind: 'close', channel: 0 });
    // Before v5, 255 is an ordinary (unused) channel.
    expect(decodeChannelMessage(Buffer.from([255, 0]), { base64: false, closeSignal: false })).toEqual({ kind: 'data', channel: 255, data: Buffer.from([0]) });
    expect(() => decodeChannelMessage(Buffer.from([255, 0, 1]), { base64: false, closeSignal: true })).toThrow(/one channel byte/);
    expect(decodeChannelMessage(Buffer.alloc(0), { base64: false, closeSignal: true })).toBeUndefined();
  });

  it('negotiate the first protocol the client offers that the server has', () => {
    expect(negotiateSubprotocol(['v5.channel.k8s.io', 'v4.channel.k8s.io'], ['v4.channel.k8s.io', 'v5.channel.k8s.io'])).toBe('v5.channel.k8s.io');
    expect(negotiateSubprotocol(['v9.channel.k8s.io'], ['v4.channel.k8s.io'])).toBeUndefined();
    expect(negotiateSubprotocol([], ['v4.channel.k8s.io', ''])).toBe('');
  });
});

/**
 * A server whose "command" copies stdin to stdout in upper case, writes "err" on stderr,
 * records resizes and exits with the code given in ?code=.
 */
describe('remote command sessions', () => {
  let server: http.Server;
  let port: number;
  const resizes: TerminalSize[] = [];
  const wss = newWebSocketServer();

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.writeHead(400).end('upgrade required'));
    server.on('upgrade', (req, socket, head) => {
      const q = new URL(req.url!, 'http://x').searchParams;
      void (async () => {
        const s = await acceptRemoteCommand({ req, socket, head }, parseRemoteCommandOptions(q), { wss, streamCreationTimeoutMs: Number(q.get('timeout') ?? 5000) });
        if (!s) return;
        s.onResize((r) => resizes.push(r));
        s.stderr?.write('err');
        const input = s.stdin ? (await collect(s.stdin)).toString() : '';
        s.stdout?.write(input.toUpperCase());
        const code = Number(q.get('code') ?? 0);
        const outcome: RemoteCommandOutcome = code === 0 ? { kind: 'success' } : { kind: 'exit', code };
        await s.finish(outcome);
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => {
    server.close();
    wss.close();
  });

  async function wsSession(protocol: string, query: string, send: (ws: WebSocket) => void) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/exec?${query}`, [protocol]);
    const got = new Map<number, Buffer[]>();
    let closeCode = 0;
    const closed = new Promise<void>((resolve) =>
      ws.on('close', (code) => {
        closeCode = code;
        resolve();
      }),
    );
    ws.on('message', (data: Buffer, isBinary) => {
      const m = decodeChannelMessage(data, { base64: !isBinary, closeSignal: false })!;
      if (m.kind === 'data') got.set(m.channel, [...(got.get(m.channel) ?? []), m.data]);
    });
    await new Promise((r) => ws.once('open', r));
    expect(ws.protocol).toBe(protocol);
    send(ws);
    await closed;
    const text = (ch: number) => Buffer.concat(got.get(ch) ?? []).toString();
    return { text, closeCode };
  }

  it('v5: stdin ends with the CLOSE signal, the exit code arrives as a Status, the socket closes normally', async () => {
    const r = await wsSession('v5.channel.k8s.io', 'input=1&output=1&error=1&code=3', (ws) => {
      ws.send(Buffer.from([0, ...Buffer.from('hello')]));
      ws.send(Buffer.from([255, 0]));
    });
    expect(r.text(1)).toBe('HELLO');
    expect(r.text(2)).toBe('err');
    expect(JSON.parse(r.text(3))).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    expect(r.closeCode).toBe(1000);
  });

  it('v4 base64: text messages both ways, Success on a zero exit', async () => {
    const r = await wsSession('v4.base64.channel.k8s.io', 'output=1&error=1', () => undefined);
    expect(r.text(2)).toBe('err');
    expect(JSON.parse(r.text(3))).toEqual({ metadata: {}, status: 'Success' });
  });

  it('channel.k8s.io (v1): failures are plain text on the error channel', async () => {
    const r = await wsSession('channel.k8s.io', 'output=1&code=2', () => undefined);
    expect(r.text(3)).toMatch(/exit code 2$/);
  });

  it('SPDY v4: streams by type, FIN on stdin, resizes, and the Status on the error stream', async () => {
    const c = await spdyClient({ host: '127.0.0.1', port, path: '/exec?input=1&output=1&tty=1&code=7', protocols: ['v4.channel.k8s.io', 'v3.channel.k8s.io'] });
    if (!('session' in c)) throw new Error(`upgrade refused: ${c.status} ${c.body}`);
    expect(c.protocol).toBe('v4.channel.k8s.io');
    const error = await c.session.openStream({ streamtype: ['error'] });
    const stdin = await c.session.openStream({ streamtype: ['stdin'] });
    const stdout = await c.session.openStream({ streamtype: ['stdout'] });
    const resize = await c.session.openStream({ streamtype: ['resize'] });
    resizes.length = 0;
    resize.write('{"Width":120,"Height":40}\n');
    const out = collect(stdout);
    const status = collect(error);
    await new Promise((r) => setTimeout(r, 50));
    stdin.end('abc');
    expect((await out).toString()).toBe('ABC');
    expect(JSON.parse((await status).toString())).toMatchObject({ reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] } });
    expect(resizes).toEqual([{ width: 120, height: 40 }]);
    await c.session.closed;
  });

  it('SPDY: refuses clients without a common protocol (403 naming ours) or with none (400)', async () => {
    const none = await spdyClient({ host: '127.0.0.1', port, path: '/exec?output=1', protocols: ['v9.channel.k8s.io'] });
    expect(none).toMatchObject({ status: 403 });
    expect((none as { headers: Record<string, string> }).headers['x-accepted-stream-protocol-versions']).toBe('v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io');
    const missing = await spdyClient({ host: '127.0.0.1', port, path: '/exec?output=1', protocols: [] });
    expect(missing).toMatchObject({ status: 400, body: 'unable to upgrade: X-Stream-Protocol-Version is required' });
  });

  it('SPDY: a client that never opens its streams is dropped after the creation timeout', async () => {
    const c = await spdyClient({ host: '127.0.0.1', port, path: '/exec?output=1&timeout=100', protocols: ['v4.channel.k8s.io'] });
    if (!('session' in c)) throw new Error('upgrade refused');
    await c.session.closed;
  });
});
