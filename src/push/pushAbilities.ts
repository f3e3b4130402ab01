import type { PushSend, PushSent } from '../ports/pushEngine';

/**
 * Optional ability of a push engine: after a restart, tell whether a claimed object's file is
 * already in place (the last process renamed it but died before recording "sent"), so it is
 * recorded rather than sent a second time.
 */
export interface LandedCheck {
  landed(job: PushSend): Promise<PushSent | undefined>;
}

export function canCheckLanded(engine: object): engine is LandedCheck {
  return typeof (engine as Partial<LandedCheck>).landed === 'function';
}

/** What push mode reports to /metrics (src/metrics.ts implements it). */
export interface PushListener {
  pushSeen(rule: string): void;
  pushSent(rule: string, bytes: number, lagSeconds: number): void;
  pushFailed(rule: string): void;
}
