// The traceparent helpers of the request path: found in raw headers whatever their case, the
// sampled flag read only from a well-formed value, replaced or appended for the forwarded request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTraceparent, parentNotSampled, setTraceparent, traceparentIndex, tracestateIndex } from '../../src/tracing/traceparent.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

test('finds traceparent and tracestate in raw headers, any case', () => {
  const raw = ['Host', 'x', 'TraceParent', `00-${TRACE}-${SPAN}-01`, 'tracestate', 'a=b'];
  assert.equal(traceparentIndex(raw), 2);
  assert.equal(tracestateIndex(raw), 4);
  assert.equal(traceparentIndex(['host', 'x', 'traceparents', 'y']), -1);
  assert.equal(tracestateIndex([]), -1);
});

test('an unsampled parent is recognised only when well formed', () => {
  assert.equal(parentNotSampled(`00-${TRACE}-${SPAN}-00`), true);
  assert.equal(parentNotSampled(`00-${TRACE}-${SPAN}-01`), false);
  assert.equal(parentNotSampled(`00-${TRACE}-${SPAN}-02`), true, 'only bit 0 is the sampled flag');
  assert.equal(parentNotSampled(`00-${TRACE}-${SPAN}-03`), false);
  assert.equal(parentNotSampled(`00-${TRACE.toUpperCase()}-${SPAN}-00`), false, 'upper-case hex is malformed: a new root');
  assert.equal(parentNotSampled('garbage'), false);
});

test("the forwarded traceparent replaces the caller's, or is appended", () => {
  const raw = ['host', 'x', 'traceparent', `00-${TRACE}-${SPAN}-01`];
  setTraceparent(raw, 2, formatTraceparent(TRACE, 'aaaaaaaaaaaaaaaa', true));
  assert.deepEqual(raw, ['host', 'x', 'traceparent', `00-${TRACE}-aaaaaaaaaaaaaaaa-01`]);
  const bare = ['host', 'x'];
  setTraceparent(bare, -1, formatTraceparent(TRACE, SPAN, false));
  assert.deepEqual(bare, ['host', 'x', 'traceparent', `00-${TRACE}-${SPAN}-00`]);
});
