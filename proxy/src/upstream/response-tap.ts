// A listener on the answer a forwarding exchange relays to the caller, for a mirror to compare
// it with its copy's. It only observes: the exchange writes to the caller exactly as without it.
import type { ForwardOutcome } from './forward-exchange.ts';

export interface ResponseTap {
  /** The upstream's response head, before it is relayed. */
  onAnswerStart(status: number, contentType: string): void;
  /** A body chunk, after it was handed to the caller's socket (the tap must not modify it). */
  onAnswerData(chunk: Buffer): void;
  /** The exchange finished (complete, failed, or the caller left): exactly once. */
  onAnswerDone(outcome: ForwardOutcome): void;
}
