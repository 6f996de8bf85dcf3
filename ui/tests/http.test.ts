/// <reference types="node" />
// The HTTP transport against a stand-in of the browser server's wire protocol (the real
// server is crates/server): calls, errors, the event stream, channels, reconnecting.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStudioApi } from '../src/lib/api';
import { createHttpTransport, type HttpTransport } from '../src/lib/api/http';

const TOKEN = 't0k3n';

interface Call {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let url: string;
let calls: Call[];
/** The open event streams, newest last. */
let streams: ServerResponse[];
let answer: (command: string, args: unknown) => { status: number; body: string };
let transport: HttpTransport | null;

function send(res: ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

beforeEach(async () => {
  calls = [];
  streams = [];
  transport = null;
  answer = () => ({ status: 200, body: 'null' });
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url?.startsWith('/events')) {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(': keep-alive\n\n');
        send(res, { ready: true });
        streams.push(res);
        return;
      }
      const m = /^\/api\/(\w+)$/.exec(req.url ?? '');
      const a = m ? answer(m[1], JSON.parse(body)) : { status: 404, body: 'nothing here' };
      res.writeHead(a.status, { 'Content-Type': 'application/json' });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  transport?.close();
  for (const s of streams) s.end();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function open(): HttpTransport {
  transport = createHttpTransport({ url: `${url}/`, token: TOKEN, retryMs: 20 });
  return transport;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('the HTTP transport', () => {
  it('posts the named arguments with the token and resolves with the result', async () => {
    answer = (command, args) => ({ status: 200, body: JSON.stringify({ command, args }) });
    const api = createStudioApi(open());
    const out = await api.attachKieId({ id: 3, kieTaskId: 'k9' });
    expect(out).toEqual({ command: 'attach_kie_id', args: { id: 3, kieTaskId: 'k9' } });
    expect(calls).toHaveLength(1);
    expect(calls[0].method).toBe('POST');
    expect(calls[0].url).toBe('/api/attach_kie_id');
    expect(calls[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(calls[0].headers['content-type']).toBe('application/json');
    expect(JSON.parse(calls[0].body)).toEqual({ id: 3, kieTaskId: 'k9' });
    // A command without arguments sends an empty object; `null` comes back as null.
    answer = () => ({ status: 200, body: 'null' });
    expect(await api.revealResult({ id: 1 })).toBeNull();
    await api.getAppInfo();
    expect(calls.at(-1)?.body).toBe('{}');
  });

  it('rejects with the ApiError the server answers with', async () => {
    const problems = [{ field: 'prompt', rule: 'required', message: 'Prompt is required.' }];
    answer = () => ({ status: 400, body: JSON.stringify({ code: 'invalid_input', message: 'Fix it.', problems }) });
    const api = createStudioApi(open());
    await expect(api.submitTask({ model: 'm', input: {} })).rejects.toEqual({ code: 'invalid_input', message: 'Fix it.', problems });
    answer = () => ({ status: 404, body: JSON.stringify({ code: 'not_in_library', message: 'Gone.', problems: [] }) });
    await expect(api.getResult({ id: 9 })).rejects.toMatchObject({ code: 'not_in_library', message: 'Gone.' });
    answer = () => ({ status: 502, body: '<html>bad gateway</html>' });
    await expect(api.getBalance()).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('502') });
  });

  it('rejects with an ApiError when the server cannot be reached', async () => {
    const t = createHttpTransport({ url: 'http://127.0.0.1:9', token: TOKEN });
    await expect(t.invoke('get_app_info', {})).rejects.toMatchObject({ code: 'internal', message: expect.stringContaining('cannot be reached') });
  });

  it('opens the event stream once, on the first subscription, and delivers events by name', async () => {
    const api = createStudioApi(open());
    expect(calls).toHaveLength(0);
    const tasks: unknown[] = [];
    const keys: unknown[] = [];
    const stopTasks = api.onTaskChanged((t) => tasks.push(t));
    api.onKeyRejected((p) => keys.push(p));
    await until(() => streams.length === 1, 'the event stream');
    expect(calls.filter((c) => c.url.startsWith('/events'))).toHaveLength(1);
    expect(calls[0].url).toBe(`/events?token=${TOKEN}`);
    send(streams[0], { event: 'studio://task-changed', payload: { id: 1 } });
    send(streams[0], { event: 'studio://key-rejected', payload: null });
    send(streams[0], { event: 'studio://something-else', payload: 1 });
    await until(() => tasks.length === 1 && keys.length === 1, 'the events');
    expect(tasks).toEqual([{ id: 1 }]);
    expect(keys).toEqual([null]);
    stopTasks();
    stopTasks();
    send(streams[0], { event: 'studio://task-changed', payload: { id: 2 } });
    send(streams[0], { event: 'studio://key-rejected', payload: null });
    await until(() => keys.length === 2, 'the second event');
    expect(tasks).toEqual([{ id: 1 }]);
  });

  it('reads messages split across chunks and lines', async () => {
    const t = open();
    const got: unknown[] = [];
    t.listen('studio://result-added', (p) => got.push(p));
    await until(() => streams.length === 1, 'the event stream');
    const text = `data: ${JSON.stringify({ event: 'studio://result-added', payload: { id: 7, notes: 'a\nb' } })}\r\n\r\n`;
    streams[0].write(text.slice(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    streams[0].write(text.slice(10, text.length - 3));
    await new Promise((r) => setTimeout(r, 20));
    streams[0].write(text.slice(text.length - 3));
    await until(() => got.length === 1, 'the message');
    expect(got).toEqual([{ id: 7, notes: 'a\nb' }]);
  });

  it('passes a channel as "__CHANNEL__:<id>" and routes its messages', async () => {
    answer = () => ({ status: 200, body: '[]' });
    const api = createStudioApi(open());
    const progress: unknown[] = [];
    const picked = await api.pickFiles({ model: 'm', field: 'image_urls', onProgress: (p) => progress.push(p) });
    expect(picked).toEqual([]);
    // The stream was open before the call, so no message could be missed.
    expect(calls[0].url).toMatch(/^\/events/);
    const arg = JSON.parse(calls[1].body).onProgress as string;
    expect(arg).toMatch(/^__CHANNEL__:\d+$/);
    const id = Number(arg.split(':')[1]);
    send(streams[0], { channel: id + 1, message: 'not mine' });
    send(streams[0], { channel: id, message: { index: 0, stage: 'uploading' } });
    await until(() => progress.length === 1, 'the channel message');
    expect(progress).toEqual([{ index: 0, stage: 'uploading' }]);
    // Another channel gets another id.
    await api.pickFiles({ model: 'm', field: 'image_urls', onProgress: () => {} });
    expect(JSON.parse(calls.at(-1)!.body).onProgress).not.toBe(arg);
  });

  it('calls watch_progress once however many listen, and fans out every event', async () => {
    const api = createStudioApi(open());
    const a: unknown[] = [];
    const b: unknown[] = [];
    const stopA = api.onProgress((e) => a.push(e));
    api.onProgress((e) => b.push(e));
    await until(() => calls.some((c) => c.url === '/api/watch_progress'), 'watch_progress');
    expect(calls.filter((c) => c.url === '/api/watch_progress')).toHaveLength(1);
    const id = Number((JSON.parse(calls.find((c) => c.url === '/api/watch_progress')!.body).channel as string).split(':')[1]);
    const event = { type: 'task', task_id: 1, kie_state: 'generating', progress: 40 };
    send(streams[0], { channel: id, message: event });
    await until(() => a.length === 1 && b.length === 1, 'both listeners');
    stopA();
    send(streams[0], { channel: id, message: event });
    await until(() => b.length === 2, 'the second event');
    expect(a).toHaveLength(1);
  });

  it('reconnects after the stream ends', async () => {
    const t = open();
    const got: unknown[] = [];
    t.listen('studio://character-added', (p) => got.push(p));
    await until(() => streams.length === 1, 'the event stream');
    streams[0].end();
    await until(() => streams.length === 2, 'a new event stream');
    send(streams[1], { event: 'studio://character-added', payload: { handle: 'sky' } });
    await until(() => got.length === 1, 'the event after reconnecting');
    expect(got).toEqual([{ handle: 'sky' }]);
  });

  it('serves library files from /asset with the token', () => {
    const t = createHttpTransport({ url, token: TOKEN });
    expect(t.mediaUrl('/home/me/Kie Studio/uploads/a b.png')).toBe(
      `${url}/asset?token=${TOKEN}&path=${encodeURIComponent('/home/me/Kie Studio/uploads/a b.png')}`,
    );
    expect(t.kind).toBe('http');
  });
});
