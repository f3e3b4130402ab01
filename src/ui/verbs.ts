/**
 * The card verbs as a runtime list, so a handler can refuse anything else before routing. The list
 * is checked against the `Verb` type at compile time: adding a verb to cardModels.ts without adding
 * it here fails the type check.
 */
import type { Verb } from './cardModels';

export const VERBS = [
  'request.new',
  'request.submit',
  'signin.continue',
  'signin.pick',
  'bucket.pick',
  'files.open',
  'files.page',
  'files.filter',
  'file.pick',
  'dest.submit',
  'dest.test',
  'dest.trustHostKey',
  'transfer.confirm',
  'transfer.cancel',
  'transfer.retry',
  'request.status',
  'approval.approve',
  'approval.reject',
] as const satisfies readonly Verb[];

// Compile-time completeness check: every Verb is in VERBS.
type MissingVerb = Exclude<Verb, (typeof VERBS)[number]>;
const complete: [MissingVerb] extends [never] ? true : MissingVerb = true;
void complete;

const VERB_SET: ReadonlySet<string> = new Set(VERBS);

export function isVerb(value: unknown): value is Verb {
  return typeof value === 'string' && VERB_SET.has(value);
}
