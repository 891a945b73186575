// The demo's text: a caller row shows admitted per cluster and rejections by reason; colour only
// when asked for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tally, bump } from '../../src/demo/tally.ts';
import { makeStyle, renderBreakers, renderTable, wrapText } from '../../src/demo/view.ts';

test('a row shows sent, admitted per cluster and rejections by reason, most frequent first', () => {
  const tally = new Tally();
  tally.sent = 12;
  bump(tally.admitted, 'primary', 5);
  bump(tally.admitted, 'backup', 2);
  bump(tally.rejected, 'hot_key', 1);
  bump(tally.rejected, 'account_quota', 3);
  bump(tally.other, 'HTTP 404', 1);
  const [head, line] = renderTable([{ label: 'order-center', rate: 120, tally }], makeStyle(false));
  assert.match(head, /caller\s+rate\s+sent\s+primary\s+marketing\s+backup/);
  assert.match(line, /^order-center\s+120\/s\s+12\s+5\s+-\s+2\s+account_quota 3, hot_key 1, HTTP 404 1$/);
});

test('colour codes appear only with colour on', () => {
  const tally = new Tally();
  bump(tally.admitted, 'primary');
  assert.doesNotMatch(renderTable([{ label: 'a', rate: 1, tally }], makeStyle(false)).join('\n'), /\x1b\[/);
  assert.match(renderTable([{ label: 'a', rate: 1, tally }], makeStyle(true)).join('\n'), /\x1b\[32m/);
});

test('breakers line names each breaker with its state, or says the admin API is silent', () => {
  const style = makeStyle(false);
  assert.equal(
    renderBreakers([{ name: 'primary-slow', cluster: 'primary', state: 'open' }, { name: 'm', cluster: 'marketing', state: 'closed' }], style),
    'breakers: primary-slow (primary) open · m (marketing) closed',
  );
  assert.equal(renderBreakers(null, style), 'breakers: admin API not answering');
});

test('explanations wrap at word boundaries', () => {
  const lines = wrapText('one two three four five six', 9);
  assert.deepEqual(lines, ['one two', 'three', 'four five', 'six']);
});
