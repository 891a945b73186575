// Rates and durations as written in the rules, and their numeric values.
// The patterns are shared with the JSON Schema so editors and the loader agree.

import type { Rate } from './types.ts';

export const RATE_PATTERN = '^(0|[1-9][0-9]*)(\\.[0-9]+)?/(s|min)$';
export const DURATION_PATTERN = '^(0|[1-9][0-9]*)(\\.[0-9]+)?(ms|s|m)$';

const RATE = new RegExp(RATE_PATTERN);
const DURATION = new RegExp(DURATION_PATTERN);

const MS_PER_UNIT: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** `200/s` → 200 per second, `3000/min` → 50 per second; null when not a rate. */
export function parseRate(text: string): Rate | null {
  const match = RATE.exec(text);
  if (match === null) return null;
  const count = Number(text.slice(0, text.indexOf('/')));
  const perSecond = match[3] === 'min' ? count / 60 : count;
  return { text, perSecond };
}

/** `250ms` → 250, `2s` → 2000, `1m` → 60000 (milliseconds); null when not a duration. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  if (match === null) return null;
  const unit = match[3];
  return Number(text.slice(0, text.length - unit.length)) * MS_PER_UNIT[unit];
}
