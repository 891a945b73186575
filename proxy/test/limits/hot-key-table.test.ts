import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gcraSpec } from '../../src/limits/gcra.ts';
import { HotKeyTable } from '../../src/limits/hot-key-table.ts';

describe('HotKeyTable', () => {
  it('throttles a hot key to its rate while other keys pass', () => {
    const table = new HotKeyTable({ name: 'member-id', track: 1000, rate: gcraSpec(50, 0) });
    let hot = 0;
    let others = 0;
    let othersRefused = 0;
    // 2 s: the hot key every 1 ms (1000/s), 100 other keys once every 100 ms each.
    for (let t = 0; t < 2000; t++) {
      if (table.take('10001', t) === 0) hot++;
      if (t % 100 === 0) {
        for (let k = 0; k < 100; k++) {
          if (table.take(`other-${k}`, t) === 0) others++;
          else othersRefused++;
        }
      }
    }
    assert.ok(hot >= 99 && hot <= 101, `hot admitted ${hot}, ~100 expected`);
    assert.equal(othersRefused, 0);
    assert.equal(others, 2000);
  });

  it('honours an override rate for a specific value', () => {
    const table = new HotKeyTable({
      name: 'member-id',
      track: 100,
      rate: gcraSpec(50, 0),
      overrides: new Map([['10086', gcraSpec(500, 0)]]),
    });
    let vip = 0;
    let plain = 0;
    for (let t = 0; t < 1000; t += 0.5) {
      if (table.take('10086', t) === 0) vip++;
      if (table.take('20000', t) === 0) plain++;
    }
    assert.ok(vip >= 495 && vip <= 501, `override admitted ${vip}`);
    assert.ok(plain >= 49 && plain <= 51, `default admitted ${plain}`);
  });

  it('answers the wait until the key may pass again, and refunds', () => {
    const table = new HotKeyTable({ name: 'r', track: 10, rate: gcraSpec(10, 1) });
    assert.equal(table.take('k', 0), 0);
    assert.equal(table.take('k', 0), 0);
    assert.equal(table.take('k', 0), 100);
    assert.equal(table.peek('k', 0), 100);
    table.give('k', 0);
    assert.equal(table.take('k', 0), 0);
    assert.equal(table.take('k', 100), 0);
  });

  it('1M distinct values never exceed track, and a hot value among them stays throttled', () => {
    const track = 10_000;
    const rate = 50;
    const table = new HotKeyTable({ name: 'flood', track, rate: gcraSpec(rate, 0) });
    const step = 0.0015; // ~667 000 requests/s: 13 333 fresh values per emission interval of 20 ms
    let now = 0;
    let hotAdmitted = 0;
    let most = 0;
    const total = 1_000_000;
    for (let i = 0; i < total; i++) {
      table.take(`m${i}`, now);
      if (i % 10 === 0 && table.take('hot', now) === 0) hotAdmitted++;
      if ((i & 1023) === 0 && table.size > most) most = table.size;
      now += step;
    }
    most = Math.max(most, table.size);
    assert.ok(most <= track, `held ${most} > ${track}`);
    assert.equal(table.size, track, 'the flood keeps the table full');
    const seconds = now / 1000;
    const bound = rate * seconds + 0 + 1;
    assert.ok(hotAdmitted <= bound, `hot admitted ${hotAdmitted} > ${bound}`);
    assert.ok(hotAdmitted >= rate * seconds * 0.98, `hot admitted ${hotAdmitted}, expected ~${rate * seconds}`);
  });

  it('a flood faster than the table turns over within one interval still cannot evict a refused key', () => {
    // 100 fresh values per request of the hot key, 1 µs apart: the table (track 1000) turns over
    // every 1 ms, far inside the hot key's 100 ms interval.
    const table = new HotKeyTable({ name: 'storm', track: 1000, rate: gcraSpec(10, 0) });
    let now = 0;
    let hot = 0;
    let n = 0;
    const times: number[] = [];
    for (let round = 0; round < 20_000; round++) {
      if (table.take('hot', now) === 0) {
        hot++;
        times.push(now);
      }
      for (let k = 0; k < 100; k++) table.take(`v${n++}`, (now += 0.001));
      assert.ok(table.size <= 1000);
    }
    const bound = (10 * now) / 1000 + 1;
    assert.ok(hot <= bound, `hot admitted ${hot} in ${now} ms, bound ${bound}: ${times.join(' ')}`);
  });

  it('drops entries whose TAT has passed before evicting live ones', () => {
    const table = new HotKeyTable({ name: 'e', track: 3, rate: gcraSpec(1, 5) });
    // 'busy' is far ahead (6 requests at once fill its bucket); 'a' and 'b' pass by quickly.
    for (let i = 0; i < 6; i++) assert.equal(table.take('busy', 0), 0);
    table.take('a', 0);
    table.take('b', 0);
    assert.equal(table.size, 3);
    // 2 s later 'a' and 'b' say nothing; 'busy' still leads by 4 s.
    table.take('c', 2000);
    table.take('d', 2000);
    assert.ok(table.size <= 3);
    // Kept, 'busy' has room for 2 more now (lead 4 s of a 5 s tolerance); evicted, it would pass 6.
    let busy = 0;
    for (let i = 0; i < 6; i++) if (table.take('busy', 2000) === 0) busy++;
    assert.equal(busy, 2);
  });

  it('a key back from the idle list carries its new TAT: evicting makes room from idle keys only', () => {
    const table = new HotKeyTable({ name: 'back', track: 2, rate: gcraSpec(1, 0) });
    table.take('a', 0);
    table.take('b', 0);
    // 5 s later both are idle; 'c' needs room: the sweep idles them and 'a' (idle longest) goes.
    assert.equal(table.take('c', 5000), 0);
    assert.equal(table.take('b', 5000), 0, "'b' is back, with a TAT 1 s ahead");
    // 'd' needs room: no idle key is left, so the oldest live one goes, never 'b' by mistake.
    table.take('d', 5000);
    assert.ok(table.take('b', 5000) > 0, "'b' was just admitted: at 1/s it must wait");
    assert.ok(table.size <= 2);
  });

  it('keeps idle keys for their return and evicts them first, through slot reuse and sweeps', () => {
    const track = 50;
    const table = new HotKeyTable({ name: 'i', track, rate: gcraSpec(10, 2) });
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let now = 0;
    let hot = 0;
    for (let i = 0; i < 200_000; i++) {
      // 200 keys come and go, time jumps now and then (whole slots and the ring pass), and one
      // key asks 50 times its rate throughout.
      table.take(`k${random(200)}`, now);
      if (table.take('hot', now) === 0) hot++;
      now += random(100) === 0 ? random(5000) : 0.2;
      if (i % 1000 === 0) {
        assert.ok(table.size <= track, `held ${table.size} > ${track}`);
        assert.ok(table.near(now, 0, 1000).length <= track);
      }
    }
    const bound = (10 * now) / 1000 + 2 + 1;
    assert.ok(hot <= bound, `hot admitted ${hot} in ${Math.round(now)} ms, bound ${bound.toFixed(1)}`);
    assert.ok(hot >= bound * 0.9, `hot admitted ${hot}, expected close to ${bound.toFixed(1)}`);
  });

  it('lists keys near or over their rate, most loaded first, bounded', () => {
    const table = new HotKeyTable({ name: 'n', track: 100, rate: gcraSpec(10, 4) });
    for (let i = 0; i < 10; i++) table.take('over', 0);
    for (let i = 0; i < 4; i++) table.take('near', 0);
    table.take('calm', 0);
    const listed = table.near(0, 0.7, 10);
    assert.deepEqual(
      listed.map((v) => v.key),
      ['over', 'near'],
    );
    assert.equal(listed[0].over, true);
    assert.ok(listed[0].retryAfterMs > 0);
    assert.equal(listed[1].over, false);
    assert.equal(table.near(0, 0, 1).length, 1);
  });

  it('keys of any length and alphabet, taken from a range of a longer string, are one key each', () => {
    const table = new HotKeyTable({
      name: 'r',
      track: 100,
      rate: gcraSpec(1, 0),
      overrides: new Map([['会员-VIP', gcraSpec(1000, 5)]]),
    });
    const long = 'x'.repeat(300);
    const keys = ['42', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', 'mémbre', '会员-1', long, '会员-VIP'];
    for (const key of keys) {
      // The first request of each key passes; a second at once is over 1/s, but the override's.
      const path = `/members/${key}/level`;
      assert.equal(table.take(path, 0, 9, 9 + key.length), 0, key);
      assert.equal(table.take(key, 0) === 0, key === '会员-VIP', key);
    }
    // A prefix or an extension of a held key is another key.
    assert.equal(table.take('4', 0), 0);
    assert.equal(table.take(long + 'x', 0), 0);
    assert.equal(table.size, keys.length + 2);
    // Listed by their own text: every key at its limit (one request at burst 0), not the VIP's.
    const listed = table.near(0, 1, 100).map((v) => v.key);
    assert.deepEqual(new Set(listed), new Set([...keys.filter((k) => k !== '会员-VIP'), '4', long + 'x']));
    table.give('mémbre', 0);
    assert.equal(table.peek('mémbre', 0), 0);
  });
});
