/**
 * Reads a card click from an incoming activity, whichever way the host delivered it:
 * - Teams and the Agents Playground send Action.Execute as an `invoke` named `adaptiveCard/action`
 *   with `value.action.verb` and `value.action.data` (the action's data merged with the inputs);
 *   the bot answers it with an invoke response carrying the next card.
 * - Hosts without Universal Actions use the Action.Submit fallback that renderCard adds: a
 *   `message` whose `value` is the same data merged with the inputs, including `verb`.
 * Anything else, or a verb FileFerry does not know, gives `undefined`. Only the shape is checked
 * here; whether the action is allowed is the workflow's decision.
 */
import type { Verb } from './cardModels';
import { isVerb } from './verbs';

export interface CardAction {
  verb: Verb;
  /** The action's data plus the card's input values, keyed by input id; `verb` included. */
  data: Record<string, unknown>;
  via: 'invoke' | 'submit';
}

interface ActivityLike {
  type?: string;
  name?: string;
  value?: unknown;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export function readCardAction(activity: ActivityLike): CardAction | undefined {
  const value = asRecord(activity.value);
  if (!value) return undefined;
  if (activity.type === 'invoke' && activity.name === 'adaptiveCard/action') {
    const action = asRecord(value.action);
    const data = asRecord(action?.data) ?? {};
    const verb = action?.verb ?? data.verb;
    return isVerb(verb) ? { verb, data: { ...data, verb }, via: 'invoke' } : undefined;
  }
  if (activity.type === 'message') {
    return isVerb(value.verb) ? { verb: value.verb, data: { ...value }, via: 'submit' } : undefined;
  }
  return undefined;
}
