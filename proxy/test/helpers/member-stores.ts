// Stand-in member stores for the migration tests: `GET /members/{id}` answers the member as JSON
// (the same member in every store, unless `differs` says this store has it wrong), with a
// `served_at` that always differs between stores. Copies sent by a mirror are counted apart.
import type { ServerResponse } from 'node:http';
import { startHttpServer, type TestServer } from './servers.ts';

export interface MemberStore extends TestServer {
  readonly name: string;
  /** Ids of the real (not mirrored) requests answered, in arrival order. */
  readonly served: string[];
  /** Ids of the mirrored copies received. */
  readonly mirrored: string[];
  /** Milliseconds before answering. */
  delayMs: number;
  /** Most mirrored copies this store held open at once. */
  peakMirrored: number;
}

export interface MemberStoreOptions {
  /** This store answers a different `level` for these ids. */
  readonly differs?: (id: number) => boolean;
}

export async function startMemberStore(name: string, options: MemberStoreOptions = {}): Promise<MemberStore> {
  const served: string[] = [];
  const mirrored: string[] = [];
  const control = { delayMs: 0, mirroredOpen: 0, peakMirrored: 0 };
  const server = await startHttpServer((req, res) => {
    const match = /^\/members\/([^/?]+)/.exec(req.url ?? '');
    const id = match === null ? '' : match[1];
    const isCopy = req.headers['x-sluice-mirror'] !== undefined;
    (isCopy ? mirrored : served).push(id);
    if (isCopy) {
      control.peakMirrored = Math.max(control.peakMirrored, ++control.mirroredOpen);
      res.on('close', () => control.mirroredOpen--);
    }
    req.resume();
    const answer = (): void => {
      if (res.destroyed) return;
      const wrong = options.differs?.(Number(id)) ?? false;
      if (req.url?.endsWith('/history') === true) {
        sendHistory(res, id, wrong);
        return;
      }
      const body = JSON.stringify({
        id,
        store: name,
        served_at: Date.now() + Math.random(),
        level: { tier: wrong ? 'silver' : 'gold', points: Number(id) % 97 },
        name: `member-${id}`,
      });
      res.writeHead(match === null ? 404 : 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (control.delayMs > 0) {
      const timer = setTimeout(answer, control.delayMs);
      res.on('close', () => clearTimeout(timer));
    } else answer();
  });
  return {
    ...server,
    name,
    served,
    mirrored,
    get delayMs() {
      return control.delayMs;
    },
    set delayMs(value: number) {
      control.delayMs = value;
    },
    get peakMirrored() {
      return control.peakMirrored;
    },
    set peakMirrored(value: number) {
      control.peakMirrored = value;
    },
  };
}

/** Points history entries per member: enough for an answer of about 400 KiB. */
export const HISTORY_ENTRIES = 6000;

/**
 * `GET /members/{id}/history`: a large JSON answer written in many chunks; a store with the member
 * wrong has its very last entry different.
 */
function sendHistory(res: ServerResponse, id: string, wrong: boolean): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write(`{"id":"${id}","entries":[`);
  for (let i = 0; i < HISTORY_ENTRIES; i++) {
    const points = i === HISTORY_ENTRIES - 1 && wrong ? -1 : i % 500;
    res.write(`${i === 0 ? '' : ','}{"seq":${i},"points":${points},"note":"order settled at checkout"}`);
  }
  res.end(']}');
}
