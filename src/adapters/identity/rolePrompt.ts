import { IdentityError } from '../../domain/errors';
import type { RoleAnswer, RoleQuestion } from '../../ports/roleChoice';
import { signInCancelled } from './awsSsoErrors';

/**
 * The pick one sign-in waits on (account, then role), between the background sign-in that asks
 * and the card action that answers. Only a value among the options asked is taken, so a card can
 * never name an account or role the portal did not list for this person. The question lives
 * until it is answered, its time is up (AUTH_FAILED) or the sign-in is cancelled.
 */
export class RolePrompt {
  private current: { question: RoleQuestion; take: (value: string) => void } | undefined;
  /** The card action that answered, waiting to hear what comes next. */
  private waiter: ((answer: RoleAnswer) => void) | undefined;

  constructor(
    /** Told of a question nobody is waiting for (the first one): the bot posts the picker. */
    private readonly notify: (question: RoleQuestion) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get question(): RoleQuestion | undefined {
    return this.current?.question;
  }

  /** Background side: resolves with the picked value; rejects at `expiresAt` or when `signal` aborts. */
  ask(question: RoleQuestion, signal: AbortSignal): Promise<string> {
    if (signal.aborted) return Promise.reject(signInCancelled('The AWS sign-in'));
    return new Promise<string>((resolve, reject) => {
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.current = undefined;
        settle();
      };
      const onAbort = (): void => finish(() => reject(signInCancelled('The AWS sign-in')));
      const timer = setTimeout(() => finish(() => reject(pickTimedOut(question))), Math.max(0, question.expiresAt.getTime() - this.now().getTime()));
      timer.unref();
      signal.addEventListener('abort', onAbort, { once: true });
      this.current = { question, take: (value) => finish(() => resolve(value)) };
      const waiter = this.waiter;
      this.waiter = undefined;
      if (waiter) waiter({ status: 'asked', question });
      else this.notify(question);
    });
  }

  /** The sign-in is past the questions (picked, or ended): an answer still waiting hears 'chosen'. */
  done(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.({ status: 'chosen' });
  }

  /** Card side: takes the pick when it answers the question asked now. */
  answer(step: RoleQuestion['step'], value: string): Promise<RoleAnswer> {
    const current = this.current;
    if (!current || current.question.step !== step) return Promise.resolve({ status: 'not-waiting' });
    if (!current.question.options.some((o) => o.value === value)) return Promise.resolve({ status: 'not-offered' });
    return new Promise<RoleAnswer>((resolve) => {
      this.waiter = resolve;
      current.take(value);
    });
  }
}

function pickTimedOut(question: RoleQuestion): IdentityError {
  const what = question.step === 'account' ? 'AWS account' : `role in AWS account ${question.accountId}`;
  return new IdentityError('AUTH_FAILED', `No ${what} was picked in time, so the sign-in has ended.`, {
    hint: 'Start a new request and pick the account and role on the card.',
  });
}
