// The W3C traceparent header as the request path meets it: found in the raw header list (no
// header object built), its sampled flag read without parsing the rest, and replaced in place so
// the forwarded request names sluice's span as parent.
// https://www.w3.org/TR/trace-context/#traceparent-header  version-traceid-parentid-flags

/** Index of the traceparent name in `raw` (names and values alternating), or -1. */
export function traceparentIndex(raw: readonly string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 11 && name.toLowerCase() === 'traceparent') return i;
  }
  return -1;
}

/** Index of the tracestate name in `raw`, or -1. */
export function tracestateIndex(raw: readonly string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 10 && name.toLowerCase() === 'tracestate') return i;
  }
  return -1;
}

const WELL_FORMED = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * True when a well-formed traceparent says its trace is not sampled: its request is not traced
 * and its header goes upstream untouched. A malformed one counts as absent (a new root).
 */
export function parentNotSampled(value: string): boolean {
  if (value.length < 55 || !WELL_FORMED.test(value.slice(0, 55))) return false;
  return (Number.parseInt(value.slice(53, 55), 16) & 1) === 0;
}

export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** Sets the forwarded traceparent: replaces the caller's value, or appends the header. */
export function setTraceparent(raw: string[], at: number, value: string): void {
  if (at === -1) raw.push('traceparent', value);
  else raw[at + 1] = value;
}
