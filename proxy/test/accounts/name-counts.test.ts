import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NameCounts } from '../../src/accounts/name-counts.ts';

const listed = (c: NameCounts): [string, number][] => [...c.counts()].map((x) => [x.name, x.n]);

describe('NameCounts', () => {
  it('counts one name inline, then many in first-added order, refusing names past max', () => {
    const c = new NameCounts(3);
    assert.equal(c.size, 0);
    assert.deepEqual(listed(c), []);
    assert.equal(c.add('a'), true);
    assert.equal(c.add('a', 4), true);
    assert.deepEqual(listed(c), [['a', 5]]);
    assert.equal(c.add('b'), true);
    assert.equal(c.add('a'), true, 'the inline name is found once a second one exists');
    assert.equal(c.add('c', 2), true);
    assert.equal(c.add('d'), false, 'a fourth distinct name is refused');
    assert.equal(c.add('b'), true, 'names held still count when full');
    assert.deepEqual(listed(c), [['a', 6], ['b', 2], ['c', 2]]);
    assert.equal(c.get('c'), 2);
    assert.equal(c.get('d'), 0);
    assert.equal(c.size, 3);
  });

  it('starts over after clear, with one name or several', () => {
    const one = new NameCounts(10);
    one.add('x');
    one.clear();
    assert.equal(one.size, 0);
    assert.equal(one.get('x'), 0, 'the remembered last name is forgotten too');
    one.add('y');
    assert.deepEqual(listed(one), [['y', 1]]);
    const many = new NameCounts(10);
    many.add('p');
    many.add('q');
    many.clear();
    assert.deepEqual(listed(many), []);
    many.add('q', 3);
    many.add('r');
    assert.deepEqual(listed(many), [['q', 3], ['r', 1]]);
  });
});
