// Every account's key_sha256 of one rules load in one buffer, 32 bytes each, found by offset: a
// Buffer per account was ~0.5 KiB of heap each (the object, its ArrayBuffer and a backing store).
import { timingSafeEqual } from 'node:crypto';

const HASH_BYTES = 32;

export class KeyHashes {
  private readonly bytes: Buffer;
  private used = 0;

  constructor(count: number) {
    this.bytes = Buffer.alloc(count * HASH_BYTES);
  }

  /** Stores a hash written as 64 hex digits; its offset. */
  add(hex: string, account: string): number {
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`account '${account}': key_sha256 must be 64 hex digits`);
    if (this.used + HASH_BYTES > this.bytes.length) throw new Error('KeyHashes: more hashes than it was made for');
    const offset = this.used;
    this.bytes.write(hex, offset, HASH_BYTES, 'hex');
    this.used += HASH_BYTES;
    return offset;
  }

  /** Whether `digest` (a SHA-256) equals the hash at `offset`, compared in constant time. */
  equals(offset: number, digest: Buffer): boolean {
    return digest.length === HASH_BYTES && timingSafeEqual(digest, this.bytes.subarray(offset, offset + HASH_BYTES));
  }
}
