// A raw HTTP/1.1 client over node:net: it sends the request target exactly as given (fetch and
// node:http would normalise or refuse absolute-form, `#`, `*`, dot segments...), and parses the
// answer tolerantly (Content-Length, chunked, or up to the close).
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawRequest {
  readonly method: string;
  readonly target: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent with its `Content-Length`. */
  readonly body?: string;
}

/** How long a request may go without an answer before it counts as "no answer" (a hang guard, not a timing check). */
const NO_ANSWER_MS = 10_000;

/**
 * The request's bytes: `METHOD target HTTP/1.1`, `Host: x`, `Connection: close`, the extra
 * headers, and the body with its `Content-Length` (`Content-Length: 0` for a POST, PUT or PATCH without one).
 */
export function requestText({ method, target, headers = {}, body }: RawRequest): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: x', 'Connection: close'];
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  else if (method === 'POST' || method === 'PUT' || method === 'PATCH') lines.push('Content-Length: 0');
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n${body ?? ''}`;
}

/** Decodes a chunked body; tolerant of a missing final chunk or trailers. */
function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = Number.parseInt(raw.subarray(at, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size) || size <= 0) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Parses a whole HTTP/1.x answer; `undefined` when it is not one. Skips 1xx interim answers. */
export function parseResponse(raw: Buffer, method: string): RawResponse | undefined {
  let rest = raw;
  for (;;) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) return undefined;
    const [statusLine = '', ...headerLines] = rest.subarray(0, headEnd).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (match === null) return undefined;
    const status = Number(match[1]);
    const afterHead = rest.subarray(headEnd + 4);
    if (status >= 100 && status < 200) {
      rest = afterHead;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    let body: Buffer;
    if (method === 'HEAD' || status === 204 || status === 304) body = Buffer.alloc(0);
    else if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(afterHead);
    else if (headers['content-length'] !== undefined && /^\d+$/.test(headers['content-length'])) body = afterHead.subarray(0, Number(headers['content-length']));
    else body = afterHead;
    return { status, headers, body: body.toString('utf8') };
  }
}

/**
 * Sends one request on a fresh connection to the server at `url` (`http://host:port`) and reads
 * until the server closes it. Resolves with the parsed answer, or with a string saying why there is none.
 */
export function rawRequest(url: string, request: RawRequest): Promise<RawResponse | string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (outcome: RawResponse | string): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(outcome);
    };
    const answer = (reason: string): void => {
      const raw = Buffer.concat(chunks);
      const parsed = parseResponse(raw, request.method);
      settle(parsed ?? `${reason}${raw.length > 0 ? ` after ${JSON.stringify(raw.toString('latin1').slice(0, 120))}` : ' without any answer'}`);
    };
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(requestText(request)));
    socket.setTimeout(NO_ANSWER_MS, () => answer(`no end of answer within ${NO_ANSWER_MS} ms`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => answer('connection closed'));
    socket.on('close', () => answer('connection closed'));
    socket.on('error', (error) => answer(`socket error ${error.message}`));
  });
}
