import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { callTemplate, compileRoutes } from '../../src/guards/route-matcher.ts';

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
