// The guard contract after admission: a guard that admitted a request is either refunded (a later
// guard refused it) or settled once with the outcome (forwarded, or aborted by an injected fault
// that stands for an upstream answer).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Guard, Verdict } from '../../src/guards/guard.ts';
import { isSettling } from '../../src/guards/guard.ts';
import { refundGuards, runGuards, settleGuards } from '../../src/guards/pipeline.ts';
import { rejection } from '../../src/reasons.ts';
import type { Outcome, RequestContext } from '../../src/request-context.ts';
import { fakeContext } from '../helpers/fake-context.ts';

class Recorder implements Guard {
  readonly name: string;
  readonly events: string[] = [];
  private readonly verdict: () => Verdict | Promise<Verdict>;
  constructor(name: string, verdict: () => Verdict | Promise<Verdict> = () => null) {
    this.name = name;
    this.verdict = verdict;
  }
  check(): Verdict | Promise<Verdict> {
    this.events.push('check');
    return this.verdict();
  }
  refund(): void {
    this.events.push('refund');
  }
  settle(_ctx: RequestContext, outcome: Outcome): void {
    this.events.push(`settle ${outcome.status} ${outcome.error ?? ''}`.trim());
  }
}

const FORWARDED: Outcome = { status: 200, upstreamMs: 12, error: null };
const INJECTED: Outcome = { status: 503, upstreamMs: 0, error: 'fault' };

describe('guard contract: refund or settle, exactly once', () => {
  it('a forwarded request settles every settling guard once, in order', () => {
    const a = new Recorder('a');
    const b = new Recorder('b');
    const plain: Guard = { name: 'plain', check: () => null };
    const guards = [a, plain, b];
    const ctx = fakeContext();
    assert.equal(runGuards(guards, ctx), null);
    const settlers = guards.filter(isSettling);
    assert.deepEqual(settlers.map((g) => g.name), ['a', 'b'], 'a guard without settle is not a settler');
    settleGuards(settlers, ctx, FORWARDED);
    assert.deepEqual(a.events, ['check', 'settle 200']);
    assert.deepEqual(b.events, ['check', 'settle 200']);
  });

  it('a later refusal refunds the guards before it and touches none after it', () => {
    const a = new Recorder('a');
    const refusing = new Recorder('refusing', () => rejection('hot_key'));
    const after = new Recorder('after');
    const verdict = runGuards([a, refusing, after], fakeContext());
    assert.equal((verdict as { reason: string }).reason, 'hot_key');
    assert.deepEqual(a.events, ['check', 'refund']);
    assert.deepEqual(refusing.events, ['check'], 'the refusing guard took nothing');
    assert.deepEqual(after.events, []);
  });

  it('a refusal that stands for an upstream answer settles the guards before it with that answer', () => {
    const a = new Recorder('a');
    const fault = new Recorder('fault', () => rejection('shutting_down', 0, null, INJECTED));
    runGuards([a, fault], fakeContext());
    assert.deepEqual(a.events, ['check', 'settle 503 fault']);
  });

  it('with a guard waiting on the store, the guards run together and are undone the same way', async () => {
    const a = new Recorder('a');
    const slow = new Recorder('slow', () => Promise.resolve(null));
    const fault = new Recorder('fault', () => rejection('shutting_down', 0, null, INJECTED));
    const after = new Recorder('after', () => Promise.resolve(null));
    const verdict = await runGuards([a, slow, fault, after], fakeContext());
    assert.equal(verdict?.settlesAs, INJECTED);
    assert.deepEqual(a.events, ['check', 'settle 503 fault']);
    assert.deepEqual(slow.events, ['check', 'settle 503 fault']);
    assert.deepEqual(after.events, [], 'a known refusal stops the guards after it');
  });

  it('an admitted request never sent refunds every guard', () => {
    const a = new Recorder('a');
    const b = new Recorder('b');
    const ctx = fakeContext();
    runGuards([a, b], ctx);
    refundGuards([a, b], ctx);
    assert.deepEqual(a.events, ['check', 'refund']);
    assert.deepEqual(b.events, ['check', 'refund']);
  });
});
