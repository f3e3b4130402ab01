/**
 * Formatting for values people read on cards and in chat. Card models carry pre-formatted strings
 * (see cardModels.ts), and these helpers are the one place that decides how sizes, rates, durations
 * and dates look, so every card says "1.5 GiB" the same way.
 *
 * Sizes use binary units (KiB, MiB, …) because that is what the bytes on disk add up to: one
 * decimal below 100 of a unit ("1.5 GiB", "45.2 MiB"), none above ("412 MiB"). Dates are shown in
 * UTC with the zone spelled out, so a requester and an auditor in different places read the same
 * time.
 */
import { humanBytes } from '../domain/byteSize';

export { humanBytes };

function checkAmount(what: string, n: number): void {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${what} must be a finite number ≥ 0, got ${n}`);
}

/** A transfer rate: `humanRate(47_400_000)` → "45.2 MiB/s". */
export function humanRate(bytesPerSecond: number): string {
  checkAmount('A rate', bytesPerSecond);
  return `${humanBytes(bytesPerSecond)}/s`;
}

/**
 * A duration: "4.2 s" below 10 s, "42 s", "3 min 05 s", "2 h 05 min", "1 d 3 h". Infinity or NaN
 * (an ETA that cannot be estimated yet) gives "unknown"; a negative duration is a bug and throws.
 */
export function humanDuration(seconds: number): string {
  if (Number.isNaN(seconds) || seconds === Infinity) return 'unknown';
  checkAmount('A duration', seconds);
  if (seconds < 10) return `${Number(seconds.toFixed(1))} s`;
  const total = Math.round(seconds);
  if (total < 60) return `${total} s`;
  const pad = (v: number) => String(v).padStart(2, '0');
  if (total < 3600) return `${Math.floor(total / 60)} min ${pad(total % 60)} s`;
  if (total < 86_400) return `${Math.floor(total / 3600)} h ${pad(Math.floor((total % 3600) / 60))} min`;
  return `${Math.floor(total / 86_400)} d ${Math.floor((total % 86_400) / 3600)} h`;
}

/** A point in time, in UTC to the minute: "2024-05-01 14:03 UTC". Accepts a Date, ISO string or epoch ms. */
export function humanDate(date: Date | string | number): string {
  const d = date instanceof Date ? date : new Date(date);
  if (Number.isNaN(d.getTime())) throw new RangeError(`Not a valid date: ${String(date)}`);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
