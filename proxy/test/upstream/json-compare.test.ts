// Comparing two JSON answers: structure, not text; ignored pointers; paths, never values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyCapture } from '../../src/upstream/body-capture.ts';
import { diffJson, MAX_DIFF_PATHS } from '../../src/upstream/json-compare.ts';
import { routeTemplate } from '../../src/upstream/route-template.ts';

test('key order does not matter; differing leaves are named by JSON Pointer', () => {
  const a = { id: 7, name: 'Ann', level: { tier: 'gold', points: 10 }, tags: ['a', 'b'] };
  const b = { tags: ['a', 'c'], level: { points: 10, tier: 'silver' }, name: 'Ann', id: 7 };
  assert.deepEqual(diffJson(a, b, new Set()), ['/level/tier', '/tags/1']);
  assert.deepEqual(diffJson(a, structuredClone(a), new Set()), []);
});

test('ignored pointers and what lies below them are left out; missing keys and extra items count', () => {
  const a = { took: 3, meta: { served_at: 1, host: 'x' }, items: [1, 2] };
  const b = { took: 9, meta: { served_at: 2, host: 'x' }, items: [1, 2, 3], extra: true };
  assert.deepEqual(diffJson(a, b, new Set(['/took', '/meta/served_at'])), ['/items/2', '/extra']);
  assert.deepEqual(diffJson(a, b, new Set(['/took', '/meta', '/items', '/extra'])), []);
  // Pointer tokens escape '/' and '~' (RFC 6901); such keys are not field names, so shown masked.
  assert.deepEqual(diffJson({ 'a/b': 1, 'm~': 1 }, { 'a/b': 2, 'm~': 2 }, new Set(['/a~1b'])), ['/*']);
  assert.deepEqual(diffJson({ 'a/b': 1, 'm~': 1 }, { 'a/b': 2, 'm~': 2 }, new Set(['/a~1b', '/m~0'])), []);
});

test('keys that look like data are masked, a changed type is one path, and the list is bounded', () => {
  assert.deepEqual(diffJson({ byId: { '10086': 1, 'a@b.c': 1 } }, { byId: { '10086': 2, 'a@b.c': 2 } }, new Set()), ['/byId/*']);
  assert.deepEqual(diffJson({ level: 'gold' }, { level: { tier: 'gold' } }, new Set()), ['/level']);
  assert.deepEqual(diffJson([1], { a: 1 }, new Set()), ['']);
  const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, i]));
  assert.equal(diffJson(many, {}, new Set()).length, MAX_DIFF_PATHS);
});

test('a body above the limit is hashed as it streams and kept no longer', () => {
  const small = new BodyCapture(16);
  small.add(Buffer.from('0123456789'));
  assert.equal(small.hashed, false);
  assert.equal(small.body().toString(), '0123456789');
  const big = new BodyCapture(16);
  const whole = new BodyCapture(1024);
  for (const part of ['0123456789', 'abcdefghij', 'klmnop']) {
    big.add(Buffer.from(part));
    whole.add(Buffer.from(part));
  }
  assert.equal(big.hashed, true);
  assert.equal(big.size, 26);
  assert.equal(big.body().length, 0, 'nothing buffered once hashed');
  assert.equal(big.digest(), whole.digest());
});

test('route templates collapse segments that may carry member data and drop nothing else', () => {
  assert.equal(routeTemplate('/members/10086/profile'), '/members/{id}/profile');
  assert.equal(routeTemplate('/v2/members/a1b2c3d4-0000-4000-8000-000000000000'), '/v2/members/{id}');
  assert.equal(routeTemplate('/members/by-email/ann@example.com'), '/members/by-email/{id}');
  assert.equal(routeTemplate('/members/'), '/members/');
});
