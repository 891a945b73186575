// Route patterns of accounts and keys of hot-key rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHotKeySpec } from '../../src/rules/hot-key-spec.ts';
import { parseRoutePattern } from '../../src/rules/route-pattern.ts';

test('route patterns: method, one-segment * and trailing **', () => {
  assert.deepEqual(parseRoutePattern('GET /members/*/level'), {
    ok: true,
    value: { text: 'GET /members/*/level', method: 'GET', segments: ['members', '*', 'level'] },
  });
  assert.deepEqual(parseRoutePattern('* /**'), { ok: true, value: { text: '* /**', method: null, segments: ['**'] } });
  assert.deepEqual(parseRoutePattern('GET /'), { ok: true, value: { text: 'GET /', method: 'GET', segments: [] } });
  const refused: Record<string, string> = {
    'GET': "must be 'METHOD /path'",
    'get /x': 'method must be upper case',
    'GET x': "path must start with '/'",
    'GET /a?b=1': 'query string',
    'GET /a//b': 'empty segment',
    'GET /**/x': "'**' may only be the last segment",
    'GET /a*': "'*' must be a whole segment",
  };
  for (const [text, why] of Object.entries(refused)) {
    const parsed = parseRoutePattern(text);
    assert.ok(!parsed.ok && parsed.error.includes(why), `${text}: ${JSON.stringify(parsed)}`);
  }
});

test('hot-key keys: path template, query, header, ip', () => {
  assert.deepEqual(parseHotKeySpec('path:/members/{id}/level'), {
    ok: true,
    value: { kind: 'path', segments: ['members', '{id}', 'level'], index: 1 },
  });
  assert.deepEqual(parseHotKeySpec('query:memberId'), { ok: true, value: { kind: 'query', name: 'memberId' } });
  assert.deepEqual(parseHotKeySpec('header:X-Member-Id'), { ok: true, value: { kind: 'header', name: 'x-member-id' } });
  assert.deepEqual(parseHotKeySpec('ip'), { ok: true, value: { kind: 'ip' } });
  const refused: Record<string, string> = {
    'cookie:x': 'must be path:/TEMPLATE/{name}',
    'path:members/{id}': "must start with '/'",
    'path:/members/id': 'name the key segment in braces',
    'path:/{a}/{b}': 'exactly one',
    'path:/m-{id}': 'whole segment',
    'query:': 'needs a parameter name',
    'header:': 'needs a header name',
  };
  for (const [text, why] of Object.entries(refused)) {
    const parsed = parseHotKeySpec(text);
    assert.ok(!parsed.ok && parsed.error.includes(why), `${text}: ${JSON.stringify(parsed)}`);
  }
});
