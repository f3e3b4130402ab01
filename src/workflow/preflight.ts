import { randomBytes } from 'node:crypto';
import { isFerryError } from '../domain/errors';
import type { Destination, DestinationSession } from '../ports/destination';
import { canWriteRanges } from '../ports/rangeWriter';
import { joinRemote } from '../transfer/remotePath';

export interface PreflightStep {
  step: string;
  ok: boolean;
  detail: string;
}

const CONNECT_STEPS = ['Reach the server', 'Check the host identity', 'Log in'] as const;
const PROBE = Buffer.from('FileFerry connection test\n');
/** The probe's removal gets its own time limit: the test's signal may be what just fired. */
const REMOVE_TIMEOUT_MS = 10_000;

/**
 * "Test connection": connects (reach, host identity, login), then writes a small probe file in
 * `folder`, renames it and removes it, so a transfer's every server-side step is tried before any
 * byte of the real file moves. Returns each step's result in order; stops at the first failure.
 * The probe is removed in `finally` even when the rename fails.
 *
 * With `connections` above 1 (a saved destination that stripes), a second connection then writes
 * past the probe's end: a server that limits sessions or cannot write at offsets is found here,
 * and the step says its transfers will use one connection (they fall back by themselves, so this
 * is not a failure).
 */
export async function preflight(destination: Destination, folder: string, signal?: AbortSignal, options: { connections?: number } = {}): Promise<PreflightStep[]> {
  const steps: PreflightStep[] = [];
  let session: DestinationSession;
  try {
    session = await destination.connect(signal);
  } catch (e) {
    const failedAt = connectStepOf(e);
    CONNECT_STEPS.forEach((step, i) => {
      if (i < failedAt) steps.push({ step, ok: true, detail: 'OK' });
      else if (i === failedAt) steps.push({ step, ok: false, detail: describe(e) });
    });
    return steps;
  }
  CONNECT_STEPS.forEach((step) => steps.push({ step, ok: true, detail: 'OK' }));
  const id = randomBytes(4).toString('hex');
  const probe = joinRemote(folder, `.fileferry-probe-${id}.tmp`);
  const renamed = joinRemote(folder, `.fileferry-probe-${id}`);
  /** Where the probe may stand: set before each write or rename, since a failed one may have landed. */
  let placed: string | undefined;
  /** Whether the probe is known to exist (its write succeeded), so its removal is a step to show. */
  let written = false;
  try {
    await run('Write a probe file', async () => {
      await session.ensureDir(folder, signal);
      placed = probe;
      await session.write(probe, one(PROBE), { offset: 0, signal });
      written = true;
    });
    await run('Rename the probe file', async () => {
      await session.rename(probe, renamed, { replace: true, signal });
      placed = renamed;
    });
    if ((options.connections ?? 1) > 1 && canWriteRanges(session)) steps.push(await stripingStep(destination, session, renamed, signal));
  } catch {
    // The failing step is already recorded.
  } finally {
    if (placed) {
      const target = placed;
      const remove = () => session.remove(target, AbortSignal.timeout(REMOVE_TIMEOUT_MS));
      // A write that failed may still have left part of the probe: remove it quietly.
      if (written) await run('Remove the probe file', remove).catch(() => undefined);
      else await remove().catch(() => undefined);
    }
    await session.close();
  }
  return steps;

  async function run(step: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
      steps.push({ step, ok: true, detail: 'OK' });
    } catch (e) {
      steps.push({ step, ok: false, detail: describe(e) });
      throw e;
    }
  }
}

const STRIPE_PROBE = Buffer.from('FileFerry striping test\n');
const STRIPE_OFFSET = PROBE.length + 1024;

/**
 * A second connection writes past the probe's end, leaving a hole as a stripe does, and the first
 * one checks the size it sees.
 */
async function stripingStep(destination: Destination, first: DestinationSession, path: string, signal?: AbortSignal): Promise<PreflightStep> {
  const step = 'Write over a second connection';
  let second: DestinationSession | undefined;
  try {
    second = await destination.connect(signal);
    if (!canWriteRanges(second)) throw new Error('no ranged writes');
    await second.writeRange(path, one(STRIPE_PROBE), { offset: STRIPE_OFFSET, signal });
    await second.endRanges(path, signal);
    const size = (await first.stat(path, signal))?.size;
    if (size !== STRIPE_OFFSET + STRIPE_PROBE.length) return { step, ok: true, detail: `One connection only: the server kept ${size ?? 0} bytes of a write at an offset; transfers here use one connection.` };
    return { step, ok: true, detail: 'OK: large files go over several connections.' };
  } catch (e) {
    // Out of time (or cancelled) says nothing about the server: that is a failed step.
    if (signal?.aborted) return { step, ok: false, detail: describe(e) };
    const why = isFerryError(e) ? e.message : 'the server refused it';
    return { step, ok: true, detail: `One connection only (${why}); transfers here use one connection.` };
  } finally {
    await second?.close().catch(() => undefined);
  }
}

/** Which connect step an error belongs to: 0 reach, 1 host identity, 2 login. */
function connectStepOf(e: unknown): number {
  const code = isFerryError(e) ? e.code : '';
  if (['HOST_KEY_UNKNOWN', 'HOST_KEY_MISMATCH', 'TLS_CERT_INVALID', 'ALGORITHM_MISMATCH'].includes(code)) return 1;
  if (['AUTH_FAILED', 'ACCESS_DENIED', 'NOT_FOUND', 'PLAINTEXT_NOT_ALLOWED'].includes(code)) return 2;
  return 0;
}

function describe(e: unknown): string {
  if (isFerryError(e)) return [e.message, e.hint].filter(Boolean).join(' ');
  return 'Unexpected failure; the log has the detail.';
}

async function* one(chunk: Buffer): AsyncGenerator<Buffer> {
  yield chunk;
}
