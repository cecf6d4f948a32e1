import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Token counts of one reply, as the Messages API reports them in `usage`. */
export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** One scripted answer to `POST /v1/messages`. */
export type FakeReply =
  | { kind: 'text'; text?: string; usage?: Partial<FakeUsage> }
  | {
      kind: 'tool_use';
      /** Tool name as the CLI knows it, e.g. `Bash` or `Write`. */
      name: string;
      input: Record<string, unknown>;
      /** Optional text block before the tool call. */
      text?: string;
      usage?: Partial<FakeUsage>;
    }
  | {
      kind: 'error';
      status: number;
      /** Anthropic error type; derived from the status when omitted. */
      errorType?: string;
      message?: string;
      /** Sends `x-should-retry: true|false` (the SDK obeys it); omitted, the client decides by status. */
      shouldRetry?: boolean;
    };

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  path: string;
  query: string;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or the raw text when it is not JSON (undefined when empty). */
  body: unknown;
  /** What the fake answered: HTTP status and, for messages, the reply kind. */
  answeredStatus: number;
  replyKind?: FakeReply['kind'] | 'count_tokens';
  requestId?: string;
}

export interface FakeAnthropicOptions {
  /** Reply used when the queue is empty (default: a short text reply with default usage). */
  defaultReply?: FakeReply;
  /** Usage used for any field a reply leaves out. */
  defaultUsage?: Partial<FakeUsage>;
}

export interface FakeAnthropic {
  /** `http://127.0.0.1:<port>`, for `ANTHROPIC_BASE_URL`. */
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Messages requests only (`POST /v1/messages`), in order. */
  messageRequests(): RecordedRequest[];
  /** Queue replies; each `POST /v1/messages` takes the next one. */
  enqueue(...replies: FakeReply[]): void;
  /** Replies still waiting in the queue. */
  pending(): number;
  /** Drops queued replies (so one failed test cannot feed the next). */
  clearQueue(): void;
  close(): Promise<void>;
}

const BASE_USAGE: FakeUsage = { input_tokens: 25, output_tokens: 7, cache_read_input_tokens: 11, cache_creation_input_tokens: 13 };

// The error type the real API puts in its error body for each status.
const ERROR_TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export function errorTypeForStatus(status: number): string {
  return ERROR_TYPE_BY_STATUS[status] ?? 'api_error';
}

/** Starts a stand-in for the Anthropic Messages API on 127.0.0.1 (a free port) that answers from a script. */
export async function startFakeAnthropic(opts: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const queue: FakeReply[] = [];
  const requests: RecordedRequest[] = [];
  const defaultUsage: FakeUsage = { ...BASE_USAGE, ...opts.defaultUsage };
  const defaultReply: FakeReply = opts.defaultReply ?? { kind: 'text', text: 'Hello from the fake API.' };
  let seq = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const [path, query = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        query,
        headers: req.headers,
        body: parseBody(raw),
        answeredStatus: 0,
      };
      requests.push(rec);
      try {
        route(rec, res);
      } catch (err) {
        // A bug in the fake must show up in the test output, not as a hung CLI.
        rec.answeredStatus = 500;
        sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: `fake-anthropic bug: ${String(err)}` } });
      }
    });
  });

  function route(rec: RecordedRequest, res: ServerResponse): void {
    if (rec.method === 'HEAD') {
      rec.answeredStatus = 200;
      res.writeHead(200).end();
      return;
    }
    if (rec.method === 'POST' && rec.path === '/v1/messages/count_tokens') {
      const text = JSON.stringify(rec.body ?? '');
      rec.answeredStatus = 200;
      rec.replyKind = 'count_tokens';
      sendJson(res, 200, { input_tokens: Math.max(1, Math.ceil(text.length / 4)) });
      return;
    }
    if (rec.method === 'POST' && rec.path === '/v1/messages') {
      const reply = queue.shift() ?? defaultReply;
      const requestId = `req_fake_${++seq}`;
      rec.requestId = requestId;
      rec.replyKind = reply.kind;
      const body = (rec.body ?? {}) as { model?: string; stream?: boolean };
      const model = typeof body.model === 'string' ? body.model : 'claude-sonnet-4-5';
      if (reply.kind === 'error') {
        const type = reply.errorType ?? errorTypeForStatus(reply.status);
        rec.answeredStatus = reply.status;
        const headers: Record<string, string> = { 'request-id': requestId };
        if (reply.shouldRetry !== undefined) headers['x-should-retry'] = String(reply.shouldRetry);
        sendJson(res, reply.status, { type: 'error', error: { type, message: reply.message ?? `fake ${reply.status} ${type}` } }, headers);
        return;
      }
      rec.answeredStatus = 200;
      const message = buildMessage(reply, model, requestId, seq, defaultUsage);
      if (body.stream === true) streamMessage(res, message, requestId);
      else sendJson(res, 200, message, { 'request-id': requestId });
      return;
    }
    // Anything else the CLI might probe gets a proper Anthropic-shaped 404, so the CLI fails loudly, not oddly.
    rec.answeredStatus = 404;
    sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `fake-anthropic: no route ${rec.method} ${rec.path}` } });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    messageRequests: () => requests.filter((r) => r.method === 'POST' && r.path === '/v1/messages'),
    enqueue: (...replies) => void queue.push(...replies),
    pending: () => queue.length,
    clearQueue: () => void queue.splice(0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface ContentBlock {
  type: 'text' | 'tool_use';
  text?: string;
  id?: string;
  name?: string;
  input?: Record<string, unknown>;
}

interface Message {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ContentBlock[];
  stop_reason: 'end_turn' | 'tool_use';
  stop_sequence: null;
  usage: FakeUsage;
}

function buildMessage(reply: Exclude<FakeReply, { kind: 'error' }>, model: string, requestId: string, n: number, defaults: FakeUsage): Message {
  const usage: FakeUsage = { ...defaults, ...reply.usage };
  const content: ContentBlock[] = [];
  if (reply.kind === 'text') content.push({ type: 'text', text: reply.text ?? 'Hello from the fake API.' });
  else {
    if (reply.text) content.push({ type: 'text', text: reply.text });
    content.push({ type: 'tool_use', id: `toolu_fake_${n}`, name: reply.name, input: reply.input });
  }
  return {
    id: `msg_fake_${requestId}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: reply.kind === 'tool_use' ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage,
  };
}

// The SSE sequence of the real API: message_start (input-side usage), per block start/delta/stop,
// message_delta (final output_tokens), message_stop.
function streamMessage(res: ServerResponse, msg: Message, requestId: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': requestId });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('message_start', {
    type: 'message_start',
    message: { ...msg, content: [], stop_reason: null, usage: { ...msg.usage, output_tokens: Math.min(1, msg.usage.output_tokens) } },
  });
  send('ping', { type: 'ping' });
  msg.content.forEach((block, index) => {
    if (block.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text ?? '' } });
    } else {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input ?? {}) } });
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  });
  send('message_delta', { type: 'message_delta', delta: { stop_reason: msg.stop_reason, stop_sequence: null }, usage: { output_tokens: msg.usage.output_tokens } });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
