/** A half-open byte range [start, end). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The byte ranges a server has acknowledged, kept sorted and merged. A striped upload writes
 * stripes out of order over several connections; after a cut, what must be sent again is exactly
 * the `gaps` below the point the source was read to, not everything after one offset.
 */
export class RangeSet {
  private ranges: ByteRange[] = [];

  /** Bytes covered by all ranges. */
  get covered(): number {
    let total = 0;
    for (const r of this.ranges) total += r.end - r.start;
    return total;
  }

  /** The end of the range that starts at 0 (the contiguous prefix), 0 when byte 0 is missing. */
  get prefix(): number {
    const first = this.ranges[0];
    return first && first.start === 0 ? first.end : 0;
  }

  /** Adds [start, end), merging with neighbours it touches or overlaps. Empty ranges are ignored. */
  add(start: number, end: number): void {
    if (!(end > start)) return;
    const out: ByteRange[] = [];
    let merged = { start, end };
    let placed = false;
    for (const r of this.ranges) {
      if (r.end < merged.start) {
        out.push(r);
      } else if (r.start > merged.end) {
        if (!placed) {
          out.push(merged);
          placed = true;
        }
        out.push(r);
      } else {
        merged = { start: Math.min(r.start, merged.start), end: Math.max(r.end, merged.end) };
      }
    }
    if (!placed) out.push(merged);
    this.ranges = out;
  }

  /** Whether every byte of [start, end) is covered. */
  has(start: number, end: number): boolean {
    if (!(end > start)) return true;
    return this.ranges.some((r) => r.start <= start && r.end >= end);
  }

  /** The parts of [start, end) not covered, in order. */
  gaps(start: number, end: number): ByteRange[] {
    const out: ByteRange[] = [];
    let at = start;
    for (const r of this.ranges) {
      if (r.end <= at) continue;
      if (r.start >= end) break;
      if (r.start > at) out.push({ start: at, end: Math.min(r.start, end) });
      at = Math.max(at, r.end);
      if (at >= end) break;
    }
    if (at < end) out.push({ start: at, end });
    return out;
  }

  /** Drops everything at or after `offset` (a fallback that rewrites from there). */
  truncate(offset: number): void {
    this.ranges = this.ranges
      .filter((r) => r.start < offset)
      .map((r) => ({ start: r.start, end: Math.min(r.end, offset) }));
  }

  /** A copy of the ranges, for events and tests. */
  toArray(): ByteRange[] {
    return this.ranges.map((r) => ({ ...r }));
  }
}
