// Keeps the policy in force: loads the rules, and on every trigger (file change, poll, SIGHUP)
// loads them again; valid rules are compiled and swapped in atomically, invalid ones are refused
// whole while the last good policy stays. Both outcomes are counted and the last error is kept
// for /admin/rules.
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import { rulesFingerprint } from './fingerprint.ts';
import { loadRulesBounded } from './load-isolated.ts';
import type { LoadResult } from './types.ts';

export interface ReloadError {
  readonly at: string;
  readonly errors: readonly string[];
}

export type LoadedRules = Extract<LoadResult, { ok: true }>;

export class RulesReloader<P> {
  private readonly target: string;
  private readonly compile: (loaded: LoadedRules) => P;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private fingerprint = '';
  private running: Promise<void> | null = null;
  private again = false;
  current: P | null = null;
  lastError: ReloadError | null = null;
  /** The rules of the policy in force. */
  loaded: LoadedRules | null = null;

  constructor(target: string, compile: (loaded: LoadedRules) => P, log: Logger, metrics: Metrics) {
    this.target = target;
    this.compile = compile;
    this.log = log;
    this.metrics = metrics;
  }

  /** Look at the files again; `force` reloads even when their content did not change (SIGHUP). */
  check(force = false): Promise<void> {
    if (force) this.fingerprint = '';
    if (this.running !== null) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.check();
      }
    });
    return this.running;
  }

  /** Compile the rules in force again (e.g. after a switch change), keeping unchanged state. */
  recompile(): void {
    if (this.loaded !== null) this.current = this.compile(this.loaded);
  }

  private async run(): Promise<void> {
    const fingerprint = await rulesFingerprint(this.target);
    if (fingerprint === this.fingerprint) return;
    // A large rule set is parsed in a child process so the parser's peak stays out of the sidecar's RSS.
    const result = await loadRulesBounded(this.target);
    if (!result.ok) {
      this.fingerprint = fingerprint;
      this.lastError = { at: new Date().toISOString(), errors: result.errors };
      this.metrics.reloads.labels('failure').inc();
      this.log.error({ event: 'rules_refused', errors: result.errors }, `rules refused, keeping ${this.loaded ? `version ${this.loaded.hash.slice(0, 12)}` : 'none'}: ${result.errors[0]}`);
      return;
    }
    let policy: P;
    try {
      policy = this.compile(result);
    } catch (error) {
      this.fingerprint = fingerprint;
      const message = error instanceof Error ? error.message : String(error);
      this.lastError = { at: new Date().toISOString(), errors: [message] };
      this.metrics.reloads.labels('failure').inc();
      this.log.error({ event: 'rules_refused', errors: [message] }, `rules refused: ${message}`);
      return;
    }
    this.fingerprint = fingerprint;
    const previous = this.loaded;
    this.current = policy;
    this.loaded = result;
    this.lastError = null;
    this.metrics.reloads.labels('success').inc();
    if (previous !== null) this.metrics.rulesInfo.remove(previous.hash.slice(0, 12));
    this.metrics.rulesInfo.labels(result.hash.slice(0, 12)).set(1);
    this.log.info(
      { event: 'rules_loaded', version: result.hash.slice(0, 12), files: result.files },
      `rules loaded: version ${result.hash.slice(0, 12)} from ${result.files.length} file(s)`,
    );
  }
}
