import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileKeyExtractor, pathValue, queryValue } from '../../src/limits/key-extractor.ts';
import { fakeContext } from '../helpers/fake-context.ts';

describe('key extractor', () => {
  it('path template: the named segment when the whole path matches, else no key', () => {
    const key = compileKeyExtractor('path:/members/{id}');
    assert.equal(key(fakeContext({ url: '/members/10086' })), '10086');
    assert.equal(key(fakeContext({ url: '/members/10086?x=1' })), '10086');
    assert.equal(key(fakeContext({ url: '/members/10086/' })), '10086');
    assert.equal(key(fakeContext({ url: '/members/10086/level' })), null);
    assert.equal(key(fakeContext({ url: '/members/' })), null);
    assert.equal(key(fakeContext({ url: '/members' })), null);
    assert.equal(key(fakeContext({ url: '/member/10086' })), null);
    assert.equal(key(fakeContext({ url: '/membersX/10086' })), null);
    assert.equal(key(fakeContext({ url: '/' })), null);
  });

  it('path template with wildcards and the key in the middle', () => {
    assert.equal(pathValue('/v1/members/7/level', ['*', 'members', '{id}', 'level'], 2), '7');
    assert.equal(pathValue('/v1/members/7/points', ['*', 'members', '{id}', 'level'], 2), null);
    assert.equal(pathValue('//members/7/level', ['*', 'members', '{id}', 'level'], 2), null);
  });

  it('query parameter: the raw value of the first exact name', () => {
    const key = compileKeyExtractor('query:memberId');
    assert.equal(key(fakeContext({ url: '/x?memberId=42' })), '42');
    assert.equal(key(fakeContext({ url: '/x?a=1&memberId=42&memberId=43' })), '42');
    assert.equal(key(fakeContext({ url: '/x?xmemberId=1&memberId=2' })), '2');
    assert.equal(key(fakeContext({ url: '/x?memberIdx=1' })), null);
    assert.equal(key(fakeContext({ url: '/x?memberId=' })), null);
    assert.equal(key(fakeContext({ url: '/x' })), null);
    assert.equal(queryValue('a=memberId&memberId=5', 'memberId'), '5');
  });

  it('header and client address', () => {
    const header = compileKeyExtractor('header:X-Member-Id');
    assert.equal(header(fakeContext({ headers: { 'x-member-id': 'abc' } })), 'abc');
    assert.equal(header(fakeContext({ headers: { 'x-member-id': '' } })), null);
    assert.equal(header(fakeContext({})), null);
    const ip = compileKeyExtractor('ip');
    assert.equal(ip(fakeContext({ remoteAddress: '10.1.2.3' })), '10.1.2.3');
  });

  it('refuses a key the rules would refuse', () => {
    assert.throws(() => compileKeyExtractor('path:/members/id'), /braces/);
    assert.throws(() => compileKeyExtractor('cookie:x'));
  });
});
