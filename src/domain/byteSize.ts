/**
 * Byte counts for people, in binary units (KiB, MiB, …): what the bytes on disk add up to. Here in
 * domain/ because cards (ui/format.ts re-exports it) and the workflow's own messages ("your
 * sign-in expired after 1.5 GiB") must say sizes the same way.
 */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/** A byte count for people: `humanBytes(1610612736)` → "1.5 GiB"; whole bytes below 1 KiB ("512 B"). */
export function humanBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`A byte count must be a finite number ≥ 0, got ${n}`);
  if (n < 1024) return `${Math.round(n)} B`;
  let unit = 0;
  let value = n;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  let text = value < 100 ? value.toFixed(1) : value.toFixed(0);
  // 1023.96 KiB rounds to "1024"; say "1.0 MiB" instead.
  if (Number(text) >= 1024 && unit < UNITS.length - 1) {
    unit += 1;
    text = (value / 1024).toFixed(1);
  }
  return `${text} ${UNITS[unit]}`;
}
