import { IdentityError } from '../../domain/errors';
import type { SignInUser } from '../../ports/identityProvider';

/** Whether the person Entra ID says signed in (`principalName`, the ID token's UPN) is `user`. */
export type EntraMatchUser = (principalName: string, user: SignInUser) => boolean;

/** The default rule: the ID token's user name equals the Teams UPN, ignoring case. No UPN, no match. */
export const sameUpnIgnoringCase: EntraMatchUser = (principalName, user) =>
  typeof user.upn === 'string' && user.upn.length > 0 && principalName.toLowerCase() === user.upn.toLowerCase();

/** The ID token claims this check reads (MSAL's idTokenClaims). */
export interface EntraIdClaims {
  preferred_username?: unknown;
  upn?: unknown;
}

/**
 * Who signed in, from the ID token: `preferred_username`, else `upn`. Returns it when it is
 * `user` by `matchUser`; throws IDENTITY_MISMATCH otherwise (the caller drops the token unused).
 * Messages name the people involved, never a token.
 */
export function checkEntraIdentity(claims: EntraIdClaims | undefined, user: SignInUser, matchUser: EntraMatchUser): string {
  const named = [claims?.preferred_username, claims?.upn].find((v): v is string => typeof v === 'string' && v.length > 0);
  if (named === undefined) {
    throw new IdentityError('IDENTITY_MISMATCH', 'Microsoft Entra ID did not say who signed in (the ID token has no preferred_username or upn), so FileFerry cannot check that it is you.', {
      hint: 'Start a new request and sign in with your work account; ask the administrator to check the app registration if it keeps happening.',
    });
  }
  if (matchUser(named, user)) return named;
  if (!user.upn) {
    throw new IdentityError('IDENTITY_MISMATCH', `You signed in at Microsoft as ${named}, but FileFerry could not read your Teams UPN to check that this is you.`, {
      hint: 'Start a new request from Teams (the bot reads your UPN from Teams); ask the administrator to check the bot can look up members if it keeps happening.',
    });
  }
  throw new IdentityError('IDENTITY_MISMATCH', `You signed in at Microsoft as ${named}, but this request belongs to ${user.upn}.`, {
    hint: `Start a new request and sign in at Microsoft as ${user.upn}, not as someone else.`,
  });
}
