import { IdentityError } from '../../domain/errors';
import type { SignInUser } from '../../ports/identityProvider';
import { stsSdk, type AwsRoleCredentials, type StsClientFactory } from './awsSsoClients';
import { awsSsoError } from './awsSsoErrors';

/** Whether the person AWS says signed in (`principalName`, the SSO user name) is `user`. */
export type MatchUser = (principalName: string, user: SignInUser) => boolean;

/** The default rule: the SSO user name equals the Teams UPN, ignoring case. No UPN, no match. */
export const sameUpnIgnoringCase: MatchUser = (principalName, user) =>
  typeof user.upn === 'string' && user.upn.length > 0 && principalName.toLowerCase() === user.upn.toLowerCase();

/**
 * The role session name of an IAM Identity Center role session ARN, which AWS sets to the SSO
 * user name: `arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly_0123abcd/alice@example.com`
 * → `alice@example.com`. Undefined for any other kind of ARN.
 */
export function sessionNameOf(arn: string): string | undefined {
  const m = /^arn:aws[\w-]*:sts::\d{12}:assumed-role\/[^/]+\/([^/]+)$/.exec(arn);
  return m?.[1];
}

/**
 * Checks that the role credentials belong to `user`: STS GetCallerIdentity, signed with them,
 * names the role session, whose name must match by `matchUser`. Returns the ARN (the session's
 * principal, for audit). A mismatch is IDENTITY_MISMATCH; the caller discards the credentials.
 * Messages name the people involved, never a credential.
 */
export async function checkAwsIdentity(
  credentials: AwsRoleCredentials,
  region: string,
  user: SignInUser,
  options: { stsClient: StsClientFactory; matchUser: MatchUser; signal?: AbortSignal },
): Promise<string> {
  const sts = options.stsClient(credentials, region);
  let arn: string | undefined;
  try {
    arn = (await sts.send(new (stsSdk().GetCallerIdentityCommand)({}), { abortSignal: options.signal })).Arn;
  } catch (e) {
    throw awsSsoError(e, 'Checking who signed in at AWS (STS GetCallerIdentity)', options.signal);
  } finally {
    sts.destroy();
  }
  const name = arn ? sessionNameOf(arn) : undefined;
  if (!arn || name === undefined) {
    throw new IdentityError('IDENTITY_MISMATCH', `AWS did not name an IAM Identity Center role session for this sign-in (${arn ?? 'no ARN'}), so FileFerry cannot tell who signed in.`, {
      hint: 'Start a new request and sign in through the link on the card; check FILEFERRY_AWS_SSO_START_URL if it keeps happening.',
    });
  }
  if (options.matchUser(name, user)) return arn;
  if (!user.upn) {
    throw new IdentityError('IDENTITY_MISMATCH', `You signed in at AWS as ${name}, but FileFerry could not read your Teams UPN to check that this is you.`, {
      hint: 'Start a new request from Teams (the bot reads your UPN from Teams); ask the administrator to check the bot can look up members if it keeps happening.',
    });
  }
  throw new IdentityError('IDENTITY_MISMATCH', `You signed in at AWS as ${name}, but this request belongs to ${user.upn}.`, {
    hint: `Start a new request and sign in at AWS as ${user.upn}, not as someone else.`,
  });
}
