// The split's choice: sticky by a hashed key (stable, monotone in percent), or an exact share.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CounterSeries } from '../../src/hot-metrics.ts';
import { SplitDecision, splitBucket, SPLIT_SCALE } from '../../src/upstream/split.ts';
import { fakeContext } from '../helpers/fake-context.ts';

function decision(percent: number, sticky: string | null): { split: SplitDecision; home: CounterSeries; moved: CounterSeries } {
  const home = new CounterSeries({});
  const moved = new CounterSeries({});
  return { split: new SplitDecision({ to: 'mysql-new', percent, sticky }, 'mysql-new', { home, moved }), home, moved };
}

test('a sticky split sends about percent of distinct ids, always the same ones, and more ids only as percent grows', () => {
  const ids = Array.from({ length: 2000 }, (_, i) => String(100_000 + i * 7));
  const movedAt = (percent: number): Set<string> => {
    const { split } = decision(percent, 'path:/members/{id}');
    return new Set(ids.filter((id) => split.moves(fakeContext({ url: `/members/${id}` }))));
  };
  const at10 = movedAt(10);
  const again = movedAt(10);
  const at30 = movedAt(30);
  console.log(`sticky split of 2000 ids: ${at10.size} at 10%, ${at30.size} at 30%`);
  assert.ok(Math.abs(at10.size / 2000 - 0.1) <= 0.03, `${at10.size} of 2000 at 10%`);
  assert.ok(Math.abs(at30.size / 2000 - 0.3) <= 0.03, `${at30.size} of 2000 at 30%`);
  assert.deepEqual([...again], [...at10]);
  for (const id of at10) assert.ok(at30.has(id), `id ${id} moved at 10% must stay moved at 30%`);
});

test('a request without the sticky key stays on the class cluster; query and header keys work alike', () => {
  const { split, home, moved } = decision(100, 'query:memberId');
  assert.equal(split.moves(fakeContext({ url: '/members/search' })), false);
  assert.equal(split.moves(fakeContext({ url: '/members?memberId=7' })), true);
  assert.equal(home.value, 1);
  assert.equal(moved.value, 1);
  const byHeader = decision(0, 'header:x-member-id').split;
  assert.equal(byHeader.moves(fakeContext({ headers: { 'x-member-id': '7' } })), false);
});

test('without sticky, exactly percent of the requests move, spread evenly', () => {
  const { split, moved } = decision(12.5, null);
  const choices = Array.from({ length: 800 }, () => split.moves(fakeContext()));
  assert.equal(moved.value, 100);
  // Evenly spread: every window of 8 holds exactly one.
  for (let i = 0; i < 800; i += 8) assert.equal(choices.slice(i, i + 8).filter(Boolean).length, 1);
});

test('the bucket of a key is fixed: changing the hash would move ids between stores mid-migration', () => {
  // Pinned values: every sidecar, every restart and every later version must agree on them.
  assert.deepEqual(['1', '10086', 'alice', '100000'].map(splitBucket), [5071, 6467, 4078, 9564]);
  const buckets = new Set(Array.from({ length: 1000 }, (_, i) => splitBucket(String(i))));
  assert.ok(buckets.size > 900, 'neighbouring ids spread over the space');
  for (const b of buckets) assert.ok(b >= 0 && b < SPLIT_SCALE);
});
