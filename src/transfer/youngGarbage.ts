/**
 * Collects V8's young generation every few MiB a transfer reads, where the runtime exposes `gc`
 * (FileFerry's processes start with --expose-gc, see scripts/nodeFlags.js).
 *
 * Why: every byte moved passes through short-lived Buffers whose memory lies outside V8's heap
 * (the source's socket reads, ssh2's SFTP request and SSH packet, FTP's socket writes). V8 frees
 * them only when a scavenge finds their small heap objects dead, and on its own it scavenges for
 * them only after about 30 MiB of such memory has piled up ("external memory pressure" in
 * `node --trace-gc`), and the process's peak RSS holds that pile. A scavenge of this
 * young generation (1 MiB semi-spaces) takes about a millisecond. Measured with
 * `npm run bench:compare -- ffcli 'ffcli@--expose-gc'` (1 GiB S3→SFTP, 3 rounds, 2026-12-04):
 * peak RSS 103-107 against 112-116 MiB, client CPU and rate the same within the noise.
 */
// 4 MiB: every 1 MiB promoted the chunks still queued for the destination to the old generation,
// where only a full GC frees them (peak RSS rose to 139 MiB); 2 MiB measured no better than 4.
export const COLLECT_EVERY = 4 * 1024 * 1024;

type Collect = (options: { type: 'minor' }) => void;

let sinceLast = 0;

/** Counts `bytes` just read; every COLLECT_EVERY bytes, runs a scavenge if `gc` is exposed. */
export function countRead(bytes: number): void {
  sinceLast += bytes;
  if (sinceLast < COLLECT_EVERY) return;
  sinceLast = 0;
  (globalThis as { gc?: Collect }).gc?.({ type: 'minor' });
}
