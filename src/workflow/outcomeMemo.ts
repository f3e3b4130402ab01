import type { SignInChallenge } from '../ports/identityProvider';
import type { MemoCodec } from './actionGate';
import type { ActionOutcome, Screen } from './screens';

/** Stands in a stored sign-in screen for the device code, which lives in memory only. */
export const CHALLENGE_HELD_IN_MEMORY = 'held-in-memory';

type StoredScreen = Screen | (Omit<Extract<Screen, { kind: 'signIn' }>, 'challenge'> & { challenge: typeof CHALLENGE_HELD_IN_MEMORY });

interface StoredOutcome {
  screen: StoredScreen;
}

/**
 * What the idempotency memo keeps of a card action's outcome. Only the screen: follow-ups are
 * never posted again on a replay, so they are not kept. A device-code challenge (the user code
 * that completes someone's sign-in) is a credential for its few minutes and is never stored: the
 * stored screen holds a marker and a replay takes the challenge from this process's memory
 * (`challengeOf`). After a restart the sign-in is gone with it, so that outcome is not replayed
 * and the action is checked afresh. The rest is plain JSON (dates become ISO strings, which the
 * cards format as they format dates).
 */
export function outcomeMemoCodec(challengeOf: (requestId: string) => SignInChallenge | undefined): MemoCodec<ActionOutcome> {
  return {
    toStored(outcome): StoredOutcome {
      const screen = outcome.screen;
      const kept: StoredScreen = screen.kind === 'signIn' && screen.challenge.kind === 'device-code' ? { ...screen, challenge: CHALLENGE_HELD_IN_MEMORY } : screen;
      return JSON.parse(JSON.stringify({ screen: kept })) as StoredOutcome;
    },
    fromStored(requestId, stored): ActionOutcome | undefined {
      const screen = (stored as Partial<StoredOutcome> | undefined)?.screen;
      if (!screen || typeof screen !== 'object' || typeof screen.kind !== 'string') return undefined;
      if (screen.kind === 'signIn' && screen.challenge === CHALLENGE_HELD_IN_MEMORY) {
        const challenge = challengeOf(requestId);
        return challenge ? { screen: { ...screen, challenge } } : undefined;
      }
      return { screen: screen as Screen };
    },
  };
}
