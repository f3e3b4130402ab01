import { IdentityError } from '../../domain/errors';
import type { IdentityProvider, IdentitySession, SignInChallenge, SignInResult, SignInScope } from '../../ports/identityProvider';
import { choosesRole, type ChoosesRole, type RoleAnswer, type RoleQuestion } from '../../ports/roleChoice';

/**
 * Sign-in chosen by the cloud the request form names: IAM Identity Center for AWS, Entra ID for
 * Azure, each where it is configured (else the fallback, the local sign-in). Sessions are signed
 * out by the provider that opened them.
 */
export class PerCloudIdentity implements IdentityProvider, ChoosesRole {
  readonly name = 'Sign-in by cloud';
  private readonly owners = new WeakMap<IdentitySession, IdentityProvider>();

  constructor(
    private readonly byCloud: Readonly<Record<string, IdentityProvider>>,
    private readonly fallback?: IdentityProvider,
  ) {}

  beginSignIn(scope: SignInScope, signal?: AbortSignal): Promise<SignInChallenge> {
    return this.for(scope).beginSignIn(scope, signal);
  }

  async completeSignIn(scope: SignInScope, signal?: AbortSignal): Promise<SignInResult> {
    const provider = this.for(scope);
    const result = await provider.completeSignIn(scope, signal);
    if (result.status === 'signed-in') this.owners.set(result.session, provider);
    return result;
  }

  async awaitSignIn(scope: SignInScope, signal?: AbortSignal): Promise<IdentitySession> {
    const provider = this.for(scope);
    if (!provider.awaitSignIn) return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason), { once: true }));
    const session = await provider.awaitSignIn(scope, signal);
    this.owners.set(session, provider);
    return session;
  }

  onRoleQuestion(listener: (requestId: string, question: RoleQuestion) => void): void {
    for (const provider of Object.values(this.byCloud)) if (choosesRole(provider)) provider.onRoleQuestion(listener);
  }

  roleQuestion(scope: SignInScope): RoleQuestion | undefined {
    const provider = this.byCloud[scope.cloud] ?? this.fallback;
    return provider && choosesRole(provider) ? provider.roleQuestion(scope) : undefined;
  }

  async answerRole(scope: SignInScope, step: RoleQuestion['step'], value: string): Promise<RoleAnswer> {
    const provider = this.byCloud[scope.cloud] ?? this.fallback;
    return provider && choosesRole(provider) ? provider.answerRole(scope, step, value) : { status: 'not-waiting' };
  }

  async signOut(session: IdentitySession): Promise<void> {
    await this.owners.get(session)?.signOut(session);
  }

  private for(scope: SignInScope): IdentityProvider {
    const provider = this.byCloud[scope.cloud] ?? this.fallback;
    if (!provider) throw new IdentityError('INVALID_CONFIG', `No sign-in is configured for ${scope.cloud}.`, { hint: 'Ask an operator to configure sign-in for this cloud, or choose another cloud.' });
    return provider;
  }
}
