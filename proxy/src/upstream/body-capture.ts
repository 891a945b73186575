// One side of a mirrored exchange's answer body, for comparison: kept whole up to
// CAPTURE_LIMIT bytes, hashed while streaming beyond it (the chunks seen so far are fed to the
// hash and let go), so a large answer costs a digest, not its size in memory.
import { createHash, type Hash } from 'node:crypto';

export const CAPTURE_LIMIT = 256 * 1024;

export class BodyCapture {
  size: number;
  private chunks: Buffer[] | null;
  private hash: Hash | null;
  private readonly limit: number;

  constructor(limit = CAPTURE_LIMIT) {
    this.size = 0;
    this.chunks = [];
    this.hash = null;
    this.limit = limit;
  }

  add(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.hash !== null) {
      this.hash.update(chunk);
      return;
    }
    const chunks = this.chunks as Buffer[];
    if (this.size <= this.limit) {
      chunks.push(chunk);
      return;
    }
    const hash = createHash('sha256');
    for (const kept of chunks) hash.update(kept);
    hash.update(chunk);
    this.hash = hash;
    this.chunks = null;
  }

  /** True once the body outgrew the limit: only its digest is known. */
  get hashed(): boolean {
    return this.hash !== null;
  }

  /** The whole body; only when not hashed. */
  body(): Buffer {
    const chunks = this.chunks ?? [];
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  /** SHA-256 hex of the whole body. Call once. */
  digest(): string {
    if (this.hash !== null) return this.hash.digest('hex');
    return createHash('sha256').update(this.body()).digest('hex');
  }
}
