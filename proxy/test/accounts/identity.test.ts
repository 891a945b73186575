import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileIdentity, MAX_IDENTITY_LENGTH } from '../../src/accounts/identity.ts';

describe('calling identity', () => {
  const identity = compileIdentity([{ kind: 'header', name: 'x-client-app' }, { kind: 'ip' }, { kind: 'header', name: 'user-agent' }]);

  it('is the first present source, in the listed order', () => {
    assert.equal(identity({ 'x-client-app': 'booking-web', 'user-agent': 'curl/8' }, '10.0.0.1'), 'booking-web');
    assert.equal(identity({ 'user-agent': 'curl/8' }, '10.0.0.1'), '10.0.0.1');
    assert.equal(identity({ 'x-client-app': '', 'user-agent': 'curl/8' }, ''), 'curl/8', 'an empty value is absent');
    assert.equal(identity({}, ''), '');
  });

  it('is cut to a bounded length, and the same string is returned when short (no copy)', () => {
    const long = 'x'.repeat(500);
    assert.equal(identity({ 'x-client-app': long }, '10.0.0.1').length, MAX_IDENTITY_LENGTH);
    const short = 'coupon-batch';
    assert.equal(identity({ 'x-client-app': short }, '10.0.0.1'), short);
  });
});
