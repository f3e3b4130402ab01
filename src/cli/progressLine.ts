import type { TransferProgress } from '../transfer/types';
import { humanBytes, humanDuration, humanRate } from '../ui/format';

/** One live line on a TTY: "  42.0%  412 MiB / 1.0 GiB  118 MiB/s  ETA 5s  (attempt 2)". */
export function progressLine(p: TransferProgress): string {
  const eta = p.etaSeconds === undefined ? '–' : humanDuration(p.etaSeconds);
  const attempt = p.attempt > 1 ? `  (attempt ${p.attempt})` : '';
  return `${p.percent.toFixed(1).padStart(5)}%  ${humanBytes(p.bytes)} / ${humanBytes(p.total)}  ${humanRate(p.rate)}  ETA ${eta}${attempt}`;
}
