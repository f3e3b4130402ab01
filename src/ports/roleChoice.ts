import type { IdentityProvider, SignInScope } from './identityProvider';

/** One account or role the person may pick, as the provider listed it (never a credential). */
export interface RoleOption {
  /** What the pick sends back: the account ID, or the role name. */
  value: string;
  /** What people read: the account name, or the role name. */
  title: string;
  /** More to tell accounts apart: "111122223333 · data@example.com". */
  detail?: string;
}

/** What a sign-in waits for the person to pick: an account first, then a role in it. */
export interface RoleQuestion {
  step: 'account' | 'role';
  /** The account the roles are in (step 'role'). */
  accountId?: string;
  options: RoleOption[];
  /** When the sign-in stops waiting for the pick and ends (AUTH_FAILED). */
  expiresAt: Date;
}

/** How a pick was taken: the next question, the sign-in moving on, or refused. */
export type RoleAnswer =
  | { status: 'asked'; question: RoleQuestion }
  /** No more to pick: the sign-in goes on by itself; completeSignIn collects its outcome. */
  | { status: 'chosen' }
  /** `value` is not among the options this sign-in listed (a forged or stale card). */
  | { status: 'not-offered' }
  /** The sign-in is not waiting for this step (already picked, ended, or never asked). */
  | { status: 'not-waiting' };

/**
 * Optional ability of a provider whose signed-in person may have several accounts or roles
 * (AWS IAM Identity Center without a configured account and role): the sign-in pauses on a
 * question, the person picks on a card, and only the options the provider itself listed for
 * that request are accepted. With one option the provider picks it and asks nothing.
 */
export interface ChoosesRole {
  /**
   * `listener` is told each time a sign-in starts waiting on a question nobody is waiting for
   * (the first one, asked in the background after the person approved). Called at most once per
   * question; must not throw.
   */
  onRoleQuestion(listener: (requestId: string, question: RoleQuestion) => void): void;
  /** The question the sign-in of `scope` waits on now, if any. */
  roleQuestion(scope: SignInScope): RoleQuestion | undefined;
  /** Answers the question of `step`; resolves once the sign-in asks the next one or moves on. Never throws. */
  answerRole(scope: SignInScope, step: RoleQuestion['step'], value: string): Promise<RoleAnswer>;
}

export function choosesRole(provider: IdentityProvider): provider is IdentityProvider & ChoosesRole {
  const p = provider as Partial<ChoosesRole>;
  return typeof p.onRoleQuestion === 'function' && typeof p.answerRole === 'function' && typeof p.roleQuestion === 'function';
}
