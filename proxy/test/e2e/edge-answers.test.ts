// SPEC §4 edge answers, over raw sockets against a whole sidecar process: headers too large or
// too many → 431, headers not received in time (slowloris) → 408, malformed → 400; each answered
// once and the connection closed, never left hanging.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawExchange, rawGet } from '../helpers/raw-http.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { memberServiceRules } from '../helpers/upstreams.ts';

const HEADERS_TIMEOUT_MS = 600;
const MAX_HEADERS = 20;
/** node looks for late headers every 500 ms: the 408 comes within the timeout plus that. */
const LATEST_408_MS = HEADERS_TIMEOUT_MS + 500 + 300;

const CALLER = 'x-caller-account: order-center';

describe('edge answers: 431, 408 and 400, then the connection closes (whole process, raw sockets)', () => {
  let stack: Stack;
  let port: number;

  before(async () => {
    stack = await startStack((ports) =>
      memberServiceRules(ports, `server: { headers_timeout: ${HEADERS_TIMEOUT_MS}ms, max_headers: ${MAX_HEADERS} }\n`),
    );
    port = stack.sidecar.port;
  });

  after(async () => {
    await stack?.close();
  });

  const expectClosedWith = async (status: number, parts: readonly (string | Buffer)[], options: { gapMs?: number; waitMs?: number } = {}) => {
    const answer = await rawExchange(port, parts, { waitMs: options.waitMs ?? 5000, gapMs: options.gapMs });
    assert.equal(answer.status, status, `answer: ${JSON.stringify(answer.text.slice(0, 200))}`);
    assert.ok(answer.closed, `the connection is closed after the ${status} (waited ${answer.ms.toFixed(0)} ms)`);
    assert.match(answer.text, /connection: close/i);
    // One answer only, however much garbage followed.
    assert.equal(answer.text.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, answer.text);
    return answer;
  };

  it('answers a valid request (the control)', async () => {
    const answer = await rawExchange(port, [rawGet('/members/1', [CALLER, 'connection: close'])], { waitMs: 5000 });
    assert.equal(answer.status, 200, answer.text);
    assert.ok(answer.closed);
  });

  it('answers 431 to headers larger than the limit', async () => {
    const answer = await expectClosedWith(431, [rawGet('/members/1', [CALLER, `x-big: ${'a'.repeat(20 * 1024)}`])]);
    console.log(`431 for a 20 KiB header in ${answer.ms.toFixed(1)} ms`);
  });

  it('answers 431 to more header fields than server.max_headers, and serves exactly that many', async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `x-field-${i}: ${i}`);
    // host and the caller's account are two of the fields.
    const atCap = await rawExchange(port, [rawGet('/members/1', [CALLER, 'connection: close', ...fields(MAX_HEADERS - 3)])], { waitMs: 5000 });
    assert.equal(atCap.status, 200, atCap.text);
    await expectClosedWith(431, [rawGet('/members/1', [CALLER, ...fields(MAX_HEADERS - 1)])]);
    await expectClosedWith(431, [rawGet('/members/1', [CALLER, ...fields(500)])]);
  });

  it('answers 408 to a client sending its headers a byte at a time (slowloris), within the headers timeout', async () => {
    const head = rawGet('/members/1', [CALLER, 'x-slow: 1']);
    const bytes = head.split('');
    const answer = await expectClosedWith(408, bytes, { gapMs: 50 });
    console.log(`408 after ${answer.ms.toFixed(0)} ms for a byte every 50 ms (headers_timeout ${HEADERS_TIMEOUT_MS} ms)`);
    assert.ok(answer.ms >= HEADERS_TIMEOUT_MS - 50, `not before the timeout: ${answer.ms.toFixed(0)} ms`);
    assert.ok(answer.ms <= LATEST_408_MS, `within ${LATEST_408_MS} ms: ${answer.ms.toFixed(0)} ms`);
  });

  it('answers 408 to a client that starts a request and stops', async () => {
    const answer = await expectClosedWith(408, ['GET /members/1 HTTP/1.1\r\nhost: x\r\n']);
    assert.ok(answer.ms <= LATEST_408_MS, `${answer.ms.toFixed(0)} ms`);
  });

  it('closes a connection that never sends a byte within the headers timeout', async () => {
    const answer = await rawExchange(port, [], { waitMs: 5000 });
    assert.ok(answer.closed, 'closed');
    assert.ok(answer.ms <= LATEST_408_MS, `${answer.ms.toFixed(0)} ms`);
    console.log(`a silent connection closed after ${answer.ms.toFixed(0)} ms with ${JSON.stringify(answer.text.split('\r\n')[0])}`);
  });

  it('answers 400 to malformed requests and closes', async (t) => {
    const cases: Record<string, string> = {
      'header line without a colon': 'GET /members/1 HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n',
      'NUL in a header value': `GET /members/1 HTTP/1.1\r\nhost: x\r\nx-a: b\0c\r\n\r\n`,
      'bare LF inside the request line': 'GET /mem\nbers HTTP/1.1\r\nhost: x\r\n\r\n',
      'both content-length and transfer-encoding': 'POST /members/1 HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      'two different content-lengths': 'POST /members/1 HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd',
      'a negative content-length': 'POST /members/1 HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n',
      'an unknown protocol version': 'GET /members/1 HTTP/7.3\r\nhost: x\r\n\r\n',
      'random bytes': '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
    };
    for (const [name, text] of Object.entries(cases)) {
      await t.test(name, async () => {
        await expectClosedWith(400, [text, 'and then more garbage\r\n\r\n'.repeat(3)]);
      });
    }
  });

  it('still answers a valid request after all of it', async () => {
    const answer = await rawExchange(port, [rawGet('/members/2', [CALLER, 'connection: close'])], { waitMs: 5000 });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(stack.sidecar.child.exitCode, null, 'the sidecar is still running');
  });
});
