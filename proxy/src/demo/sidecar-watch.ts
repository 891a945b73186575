// What the demo learns from the sidecar besides the answers: its control events (breaker
// transitions, store up/down, switches), read from its JSON log, and breaker states polled from
// the admin API. The full log goes to a file so the screen stays readable.
import { createWriteStream, type WriteStream } from 'node:fs';
import { pino, type Logger } from 'pino';
import { Pool } from 'undici';
import type { BreakerView } from './view.ts';

/** Log events worth a line in the view. */
const NOTABLE = new Set(['breaker_transition', 'store_down', 'store_up', 'switch', 'rules_refused', 'rules_loaded']);

export interface SidecarLog {
  readonly log: Logger;
  readonly file: string;
  close(): Promise<void>;
}

/** A pino logger writing every line to `file` and passing notable events' messages to `onEvent`. */
export function sidecarLog(file: string, onEvent: (text: string, event: string) => void): SidecarLog {
  const out: WriteStream = createWriteStream(file, { flags: 'a' });
  const destination = {
    write(line: string): void {
      out.write(line);
      try {
        const entry = JSON.parse(line) as { event?: unknown; msg?: unknown };
        if (typeof entry.event === 'string' && NOTABLE.has(entry.event) && typeof entry.msg === 'string') onEvent(entry.msg, entry.event);
      } catch {
        // Not JSON: only in the file.
      }
    },
  };
  const log = pino({ level: 'info', base: { service: 'sluice' } }, destination);
  return {
    log,
    file,
    close: () => new Promise<void>((resolve) => out.end(() => resolve())),
  };
}

/** Polls GET /admin/breakers; `current` is null while the admin API does not answer. */
export class BreakerWatch {
  current: readonly BreakerView[] | null = null;
  private readonly pool: Pool;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(adminUrl: string) {
    this.pool = new Pool(adminUrl, { connections: 1, headersTimeout: 2000, bodyTimeout: 2000 });
  }

  start(intervalMs: number): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), intervalMs);
  }

  stateOf(name: string): string | null {
    return this.current?.find((b) => b.name === name)?.state ?? null;
  }

  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const { statusCode, body } = await this.pool.request({ method: 'GET', path: '/admin/breakers' });
      const value = (await body.json()) as { breakers?: unknown };
      this.current = statusCode === 200 && Array.isArray(value.breakers) ? value.breakers.map(toView) : null;
    } catch {
      this.current = null;
    } finally {
      this.polling = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.pool.destroy();
  }
}

function toView(value: unknown): BreakerView {
  const b = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  return { name: String(b.name ?? '?'), cluster: String(b.cluster ?? '?'), state: String(b.state ?? '?') };
}
