// Stateful parts of the policy (limiter buckets, breakers, hot-key tables) keyed by the identity
// of the rule that made them, so a reload keeps the state of every rule that did not change.

export interface Disposable {
  dispose?(): void;
}

export class StateRegistry {
  private current = new Map<string, unknown>();
  private next: Map<string, unknown> | null = null;

  /** Start building a new policy: what it asks for is kept, the rest is dropped on commit. */
  begin(): void {
    this.next = new Map();
  }

  /**
   * The state for `identity` (a string that changes whenever the rule's meaning changes), made
   * by `create` the first time.
   */
  get<T>(identity: string, create: () => T): T {
    const target = this.next ?? this.current;
    const existing = (this.next?.get(identity) ?? this.current.get(identity)) as T | undefined;
    const value = existing ?? create();
    target.set(identity, value);
    return value;
  }

  /** The new policy is in force: dispose of state no rule asked for. */
  commit(): void {
    if (this.next === null) return;
    for (const [identity, value] of this.current) {
      if (!this.next.has(identity)) (value as Disposable).dispose?.();
    }
    this.current = this.next;
    this.next = null;
  }

  /** The new policy was refused: forget what it made, keep the current state. */
  abort(): void {
    if (this.next === null) return;
    for (const [identity, value] of this.next) {
      if (!this.current.has(identity)) (value as Disposable).dispose?.();
    }
    this.next = null;
  }

  get size(): number {
    return this.current.size;
  }
}
