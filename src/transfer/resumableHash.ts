import { createHash, type Hash } from 'node:crypto';

/**
 * A running hash that can step back. A resumed transfer restarts at the offset the server
 * acknowledged, which may lie before the bytes already hashed; SHA-256 cannot be un-fed, so this
 * keeps snapshots (`Hash.copy()`) at fixed intervals, and a rewind goes back to the nearest
 * snapshot at or before the offset. The engine then re-reads from there, hashing again the bytes it
 * does not send again, so the final digest covers every byte exactly once.
 *
 * Only the last `keep` snapshots are kept (plus the empty start) so memory stays bounded for any
 * size; a rewind older than that restarts the hash at 0, which is slower but still exact.
 */
export class ResumableHash {
  private hashes: Map<string, Hash>;
  private position = 0;
  private snapshots: { at: number; hashes: Map<string, Hash> }[] = [];

  constructor(
    private readonly algorithms: readonly string[] = ['sha256'],
    private readonly interval = 16 * 1024 * 1024,
    private readonly keep = 8,
  ) {
    this.hashes = fresh(algorithms);
  }

  /** Bytes hashed so far. */
  get bytes(): number {
    return this.position;
  }

  update(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length > 0) {
      const toBoundary = this.interval - (this.position % this.interval);
      const piece = rest.length > toBoundary ? rest.subarray(0, toBoundary) : rest;
      for (const h of this.hashes.values()) h.update(piece);
      this.position += piece.length;
      rest = rest.subarray(piece.length);
      if (this.position % this.interval === 0) this.snapshot();
    }
  }

  /**
   * Steps back to the latest snapshot at or before `offset` and returns its position: the caller
   * must feed the bytes from there again.
   */
  rewind(offset: number): number {
    if (offset >= this.position) return this.position;
    while (this.snapshots.length > 0 && this.snapshots[this.snapshots.length - 1]!.at > offset) this.snapshots.pop();
    const base = this.snapshots[this.snapshots.length - 1];
    this.hashes = base ? copy(base.hashes) : fresh(this.algorithms);
    this.position = base ? base.at : 0;
    return this.position;
  }

  /** Lower-case hex digests by algorithm. Ends the hash. */
  digest(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, h] of this.hashes) out[name] = h.digest('hex');
    return out;
  }

  private snapshot(): void {
    this.snapshots.push({ at: this.position, hashes: copy(this.hashes) });
    if (this.snapshots.length > this.keep) this.snapshots.shift();
  }
}

function fresh(algorithms: readonly string[]): Map<string, Hash> {
  return new Map(algorithms.map((a) => [a, createHash(a)]));
}

function copy(hashes: Map<string, Hash>): Map<string, Hash> {
  return new Map([...hashes].map(([a, h]) => [a, h.copy()]));
}
