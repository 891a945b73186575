// Drills started through the admin API (POST /admin/faults, or received from the fleet), kept
// apart from the rules files' so that a reload keeps them. Each has an end (its ttl); when the
// soonest one passes, `onChange` runs so the policy is rebuilt without it. The fault guard also
// checks each drill's end per request, so a drill never outlives its end by a timer's lateness.
import type { FaultRules } from '../rules/types.ts';

export interface AdminDrill {
  readonly fault: FaultRules;
  /** Instance the drill was posted to. */
  readonly instance: string;
  /** Wall-clock start, ISO 8601. */
  readonly startedAt: string;
}

export class FaultState {
  private drills = new Map<string, AdminDrill>();
  private timer: NodeJS.Timeout | null = null;
  private readonly onChange: () => void;

  constructor(onChange: () => void = () => {}) {
    this.onChange = onChange;
  }

  /** Drills still running, by name. */
  list(now = Date.now()): readonly AdminDrill[] {
    return [...this.drills.values()].filter((drill) => (drill.fault.until ?? Infinity) > now);
  }

  faults(now = Date.now()): readonly FaultRules[] {
    return this.list(now).map((drill) => drill.fault);
  }

  has(name: string): boolean {
    return this.drills.has(name);
  }

  set(drill: AdminDrill): void {
    this.drills.set(drill.fault.name, drill);
    this.changed();
  }

  /** Answers whether a drill of that name was running. */
  remove(name: string): boolean {
    const had = this.drills.delete(name);
    if (had) this.changed();
    return had;
  }

  /** The whole set, as received from another sidecar. */
  replace(drills: readonly AdminDrill[]): void {
    this.drills = new Map(drills.map((drill) => [drill.fault.name, drill]));
    this.changed();
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private changed(): void {
    this.prune();
    this.onChange();
  }

  /** Drops ended drills and sets the timer for the next end. */
  private prune(): void {
    const now = Date.now();
    let soonest = Infinity;
    for (const [name, drill] of this.drills) {
      const until = drill.fault.until ?? Infinity;
      if (until <= now) this.drills.delete(name);
      else soonest = Math.min(soonest, until);
    }
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (soonest !== Infinity) {
      this.timer = setTimeout(() => this.changed(), Math.max(0, soonest - now) + 1);
      this.timer.unref();
    }
  }
}
