import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connectionNamed, relayedHeaders, isHopByHop, withoutHopByHop } from '../../src/upstream/hop-by-hop.ts';
import { buildRequestHead, type RequestHead } from '../../src/upstream/request-head.ts';

function head(raw: string[], remoteAddress = '10.1.2.3'): RequestHead {
  const result: RequestHead = { headers: [], hasBody: false };
  buildRequestHead(raw, remoteAddress, result);
  return result;
}

function names(flat: readonly string[]): string[] {
  return flat.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
}

describe('hop-by-hop header fields', () => {
  test('the RFC 9110 list, by lower-case name', () => {
    for (const name of ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']) {
      assert.equal(isHopByHop(name), true, name);
    }
    assert.equal(isHopByHop('content-length'), false);
    assert.equal(isHopByHop('x-request-id'), false);
  });

  test('Connection names extra fields, case-insensitively, across several Connection lines', () => {
    const named = connectionNamed(['Connection', 'keep-alive, X-Secret , close', 'CONNECTION', 'x-other', 'X-Secret', '1']);
    assert.deepEqual([...(named ?? [])].sort(), ['x-other', 'x-secret']);
    assert.equal(connectionNamed(['Connection', 'keep-alive', 'Host', 'a']), null);
    assert.equal(connectionNamed([]), null);
  });

  test('raw response headers (Buffers) lose hop-by-hop and Connection-named fields, keep order, case and repeats', () => {
    const raw = ['Content-Type', 'text/plain', 'Connection', 'x-internal', 'X-Internal', 'v', 'Keep-Alive', 'timeout=5', 'Set-Cookie', 'a=1', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'b=2'].map((s) => Buffer.from(s, 'latin1'));
    assert.deepEqual(withoutHopByHop(raw), ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
  });
});

describe('response head relayed from parsed headers', () => {
  test('drops hop-by-hop and Connection-named fields, keeps repeats in order', () => {
    const parsed = {
      'content-type': 'text/plain',
      connection: ['x-internal', 'keep-alive'],
      'x-internal': 'secret',
      'keep-alive': 'timeout=5',
      'set-cookie': ['a=1', 'b=2'],
      'transfer-encoding': 'chunked',
      'x-kept': 'yes',
    };
    assert.deepEqual(relayedHeaders(parsed), ['content-type', 'text/plain', 'set-cookie', 'a=1', 'set-cookie', 'b=2', 'x-kept', 'yes']);
    assert.deepEqual(relayedHeaders({ 'content-length': '2', connection: 'keep-alive' }), ['content-length', '2']);
  });
});

describe('request head sent upstream', () => {
  test('headers pass untouched except hop-by-hop, Expect and Connection-named ones', () => {
    const result = head([
      'Host', 'members.example',
      'Connection', 'keep-alive, X-Secret',
      'X-Secret', '1',
      'TE', 'trailers',
      'Expect', '100-continue',
      'Proxy-Authorization', 'Basic x',
      'traceparent', '00-abc-def-01',
      'X-Request-Id', 'r-1',
      'Accept', 'application/json',
    ]);
    assert.deepEqual(result.headers, [
      'Host', 'members.example',
      'traceparent', '00-abc-def-01',
      'X-Request-Id', 'r-1',
      'Accept', 'application/json',
      'x-forwarded-for', '10.1.2.3',
    ]);
    assert.equal(result.hasBody, false);
  });

  test('fields a Connection header names go whether they come before or after it; special fields are found in any case', () => {
    const result = head([
      'X-Before', 'a',
      'Host', 'members.example',
      'CONNECTION', 'x-before, X-After, Content-Length',
      'x-after', 'b',
      'User-Agent', 'wrk',
      'KEEP-ALIVE', 'timeout=5',
      'Content-LENGTH', '3',
      'x-FORWARDED-for', '203.0.113.1',
      'X-REQUEST-ID', 'r-2',
      'x-caller-account', 'order-center',
    ]);
    assert.deepEqual(result.headers, [
      'Host', 'members.example',
      'User-Agent', 'wrk',
      // Named by Connection, yet framing and identity fields are kept: they are sluice's to handle.
      'Content-LENGTH', '3',
      'X-REQUEST-ID', 'r-2',
      'x-caller-account', 'order-center',
      'x-forwarded-for', '203.0.113.1, 10.1.2.3',
    ]);
    assert.equal(result.hasBody, true);
    // Names of a special length that are not special pass as they are.
    const same = head(['Proxy-Connexion', '1', 'x-caller-key', 'k', 'Content-Lengtx', '0', 'x-request-id', 'r']);
    assert.deepEqual(same.headers, ['Proxy-Connexion', '1', 'x-caller-key', 'k', 'Content-Lengtx', '0', 'x-request-id', 'r', 'x-forwarded-for', '10.1.2.3']);
    assert.equal(same.hasBody, false);
  });

  test('x-forwarded-for lines are merged and the client address appended', () => {
    const result = head(['X-Forwarded-For', '203.0.113.1', 'x-forwarded-for', '198.51.100.2, 192.0.2.3', 'x-request-id', 'r']);
    assert.deepEqual(result.headers, ['x-request-id', 'r', 'x-forwarded-for', '203.0.113.1, 198.51.100.2, 192.0.2.3, 10.1.2.3']);
  });

  test('an absent or empty x-request-id is replaced by a fresh UUID', () => {
    for (const raw of [[], ['X-Request-Id', '']]) {
      const result = head(raw, '');
      assert.deepEqual(names(result.headers), ['x-request-id']);
      assert.match(result.headers[1], /^[0-9a-f-]{36}$/);
    }
  });

  test('a body is announced by a non-zero Content-Length or by Transfer-Encoding', () => {
    assert.equal(head(['Content-Length', '12']).hasBody, true);
    assert.equal(head(['Content-Length', '0']).hasBody, false);
    const chunked = head(['Transfer-Encoding', 'chunked']);
    assert.equal(chunked.hasBody, true);
    assert.equal(names(chunked.headers).includes('transfer-encoding'), false);
  });
});
