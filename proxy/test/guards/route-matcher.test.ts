import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallTemplates } from '../../src/guards/call-templates.ts';
import { callTemplate, callTemplateKey, compileRoutes } from '../../src/guards/route-matcher.ts';

describe('route matcher', () => {
  const routes = compileRoutes(['GET /members/*', 'GET /members/*/level', 'POST /orders/**', '* /health', 'GET /']);

  it('answers the first matching pattern', () => {
    assert.equal(routes.match('GET', '/members/10086'), 'GET /members/*');
    assert.equal(routes.match('GET', '/members/10086/'), 'GET /members/*');
    assert.equal(routes.match('GET', '/members/10086/level'), 'GET /members/*/level');
    assert.equal(routes.match('POST', '/orders'), 'POST /orders/**');
    assert.equal(routes.match('POST', '/orders/1/items/2'), 'POST /orders/**');
    assert.equal(routes.match('DELETE', '/health'), '* /health');
    assert.equal(routes.match('GET', '/'), 'GET /');
  });

  it('answers null outside the patterns', () => {
    assert.equal(routes.match('POST', '/members/1'), null);
    assert.equal(routes.match('GET', '/members'), null);
    assert.equal(routes.match('GET', '/members//level'), null);
    assert.equal(routes.match('GET', '/members/1/points'), null);
    assert.equal(routes.match('GET', '/membersx/1'), null);
    assert.equal(routes.match('GET', '/ordersx'), null);
  });

  it('keeps the patterns as written', () => {
    assert.deepEqual(routes.patterns, ['GET /members/*', 'GET /members/*/level', 'POST /orders/**', '* /health', 'GET /']);
  });

  it('makes bounded call templates for the usage profile', () => {
    assert.equal(callTemplate('GET', '/members/10086'), 'GET /members/*');
    assert.equal(callTemplate('GET', '/members/10086/level'), 'GET /members/*/level');
    assert.equal(callTemplate('GET', '/v2/members/a1b2c3d4e5'), 'GET /v2/members/*');
    assert.equal(callTemplate('GET', '/x/' + 'y'.repeat(30)), 'GET /x/*');
    assert.equal(callTemplate('GET', '/'), 'GET /');
    assert.equal(callTemplate('GET', '/a/b/'), 'GET /a/b');
    assert.equal(callTemplate('GET', '/1/2/3/4/5/6/7/8/9/10'), 'GET /*/*/*/*/*/*/*/*/**');
  });

  it('refuses a pattern the rules would refuse', () => {
    assert.throws(() => compileRoutes(['GET members']));
  });
});

describe('call template keys', () => {
  it('two calls have the same key exactly when they have the same template', () => {
    // A seeded walk over paths made of a few segment kinds, so that templates repeat often.
    let seed = 12345;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const parts = ['members', 'level', '10086', '42', 'a1b2c3d4e5', 'x'.repeat(30), '', 'v2', 'search', 'abc12'];
    const methods = ['GET', 'POST', 'DELETE'];
    const byTemplate = new Map<string, number>();
    const byKey = new Map<number, string>();
    for (let i = 0; i < 20_000; i++) {
      const depth = next(11);
      let path = '';
      for (let d = 0; d < depth; d++) path += '/' + parts[next(parts.length)];
      if (next(4) === 0) path += '/';
      if (path === '') path = '/';
      const method = methods[next(methods.length)];
      const template = callTemplate(method, path);
      const key = callTemplateKey(method, path);
      const known = byTemplate.get(template);
      if (known !== undefined) assert.equal(key, known, `${method} ${path}`);
      else byTemplate.set(template, key);
      const other = byKey.get(key);
      if (other !== undefined) assert.equal(template, other, `${method} ${path}`);
      else byKey.set(key, template);
    }
    assert.ok(byTemplate.size > 100, `distinct templates: ${byTemplate.size}`);
  });

  it('the template cache answers the same string object for the same template, and stays bounded', () => {
    const cache = new CallTemplates(8);
    const first = cache.of('GET', '/members/10086');
    assert.equal(first, 'GET /members/*');
    assert.ok(Object.is(cache.of('GET', '/members/42'), first));
    for (let i = 0; i < 100; i++) assert.equal(cache.of('GET', `/p${'a'.repeat(i % 20)}/x`), `GET /p${'a'.repeat(i % 20)}/x`);
    assert.equal(cache.size, 8);
  });
});
