import { randomUUID } from 'node:crypto';
import { IdentityError } from '../../domain/errors';
import type { IdentityProvider, IdentitySession, SignInChallenge, SignInResult, SignInScope } from '../../ports/identityProvider';
import type { StorageSource } from '../../ports/storageSource';

/**
 * The embedded sign-in: "Continue as <Teams user>". The Teams (or Playground) identity is taken as
 * is, and the session reads the local source the composition root hands in (the LocalSource over
 * the data folder). Real SSO (AWS IAM Identity Center, Entra ID) implements the same port with a
 * device-code challenge. `openSource` is called once per sign-in, so each session has its own
 * reader and signing out drops it.
 */
export class LocalIdentity implements IdentityProvider {
  readonly name = 'Local sign-in';
  private readonly begun = new Set<string>();

  constructor(private readonly openSource: (scope: SignInScope) => StorageSource) {}

  async beginSignIn(scope: SignInScope): Promise<SignInChallenge> {
    this.begun.add(scope.requestId);
    return { kind: 'continue-as', provider: this.name, userName: scope.user.name || scope.user.id };
  }

  async completeSignIn(scope: SignInScope): Promise<SignInResult> {
    if (!this.begun.delete(scope.requestId)) {
      throw new IdentityError('AUTH_FAILED', `No sign-in was started for request ${scope.requestId}.`, { hint: 'Start a new request.' });
    }
    const session: IdentitySession = {
      requestId: scope.requestId,
      principal: `local:${scope.user.id}#${randomUUID().slice(0, 8)}`,
      source: this.openSource(scope),
    };
    return { status: 'signed-in', session };
  }

  async signOut(_session: IdentitySession): Promise<void> {
    // Nothing to revoke: the local reader holds no credential; dropping the session forgets it.
  }
}
