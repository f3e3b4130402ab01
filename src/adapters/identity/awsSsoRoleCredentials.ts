import type { SSOClient } from '@aws-sdk/client-sso';
import { IdentityError } from '../../domain/errors';
import { ssoSdk, type AwsRoleCredentials } from './awsSsoClients';
import { awsSsoError } from './awsSsoErrors';
import type { RoleOption, RoleQuestion } from '../../ports/roleChoice';

/** The account and permission set (role) a sign-in reads with. */
export interface AwsRoleTarget {
  accountId: string;
  roleName: string;
}

/** What a signed-in user can log out and use once: the portal access token, never stored. */
export interface PortalAccess {
  sso: SSOClient;
  accessToken: string;
  signal: AbortSignal;
}

const CHOOSE_HINT = 'Set FILEFERRY_AWS_ACCOUNT_ID and FILEFERRY_AWS_ROLE_NAME to the account and permission set FileFerry should use.';
/** More options than this do not fit a card: the operator configures the account and role instead. */
const MAX_OPTIONS = 50;

/** Asks the person to pick one of `options` (on a card); resolves with the picked value. */
export type AskRole = (question: Pick<RoleQuestion, 'step' | 'accountId' | 'options'>) => Promise<string>;
/** Runs one portal call, trying again while it fails retryably. */
export type Retry = <T>(call: () => Promise<T>) => Promise<T>;

/**
 * The account and role to read with: the configured ones, else the only account the user is
 * assigned (ListAccounts) and the only role in it (ListAccountRoles); with several, the person
 * picks through `ask` (the account first, then a role in it). None is ACCESS_DENIED.
 */
export async function chooseRole(access: PortalAccess, configured: Partial<AwsRoleTarget>, ask: AskRole, retry: Retry): Promise<AwsRoleTarget> {
  const accountId = configured.accountId ?? (await pickAccount(access, ask, retry));
  const roleName = configured.roleName ?? (await pickRole(access, accountId, ask, retry));
  return { accountId, roleName };
}

async function pickAccount(access: PortalAccess, ask: AskRole, retry: Retry): Promise<string> {
  const sdk = ssoSdk();
  const options = await listAll(access, retry, 'Listing your AWS accounts', async (nextToken) => {
    const page = await access.sso.send(new sdk.ListAccountsCommand({ accessToken: access.accessToken, nextToken }), { abortSignal: access.signal });
    const found = (page.accountList ?? []).flatMap((a): RoleOption[] =>
      a.accountId ? [{ value: a.accountId, title: a.accountName || a.accountId, detail: [a.accountId, a.emailAddress].filter(Boolean).join(' · ') }] : [],
    );
    return { found, nextToken: page.nextToken };
  });
  if (options.length === 0) {
    throw new IdentityError('ACCESS_DENIED', 'You are signed in at AWS IAM Identity Center, but no AWS account is assigned to you.', {
      hint: 'Ask your AWS administrator to assign you the account and permission set FileFerry uses.',
    });
  }
  if (options.length > MAX_OPTIONS) {
    throw new IdentityError('ACCESS_DENIED', `More than ${MAX_OPTIONS} AWS accounts are assigned to you, too many to pick from on a card.`, { hint: CHOOSE_HINT });
  }
  return options.length === 1 ? options[0]!.value : ask({ step: 'account', options });
}

async function pickRole(access: PortalAccess, accountId: string, ask: AskRole, retry: Retry): Promise<string> {
  const sdk = ssoSdk();
  const options = await listAll(access, retry, `Listing your roles in AWS account ${accountId}`, async (nextToken) => {
    const page = await access.sso.send(new sdk.ListAccountRolesCommand({ accessToken: access.accessToken, accountId, nextToken }), { abortSignal: access.signal });
    const found = (page.roleList ?? []).flatMap((r): RoleOption[] => (r.roleName ? [{ value: r.roleName, title: r.roleName }] : []));
    return { found, nextToken: page.nextToken };
  });
  if (options.length === 0) {
    throw new IdentityError('ACCESS_DENIED', `No permission set (role) in AWS account ${accountId} is assigned to you.`, {
      hint: 'Ask your AWS administrator to assign you the permission set FileFerry uses in that account.',
    });
  }
  if (options.length > MAX_OPTIONS) {
    throw new IdentityError('ACCESS_DENIED', `More than ${MAX_OPTIONS} roles in AWS account ${accountId} are assigned to you, too many to pick from on a card.`, {
      hint: 'Set FILEFERRY_AWS_ROLE_NAME to the permission set FileFerry should use (and FILEFERRY_AWS_ACCOUNT_ID to the account).',
    });
  }
  return options.length === 1 ? options[0]!.value : ask({ step: 'role', accountId, options });
}

/** Every page (each page tried again on retryable faults), stopping once past MAX_OPTIONS. */
async function listAll(
  access: PortalAccess,
  retry: Retry,
  what: string,
  page: (nextToken: string | undefined) => Promise<{ found: RoleOption[]; nextToken?: string }>,
): Promise<RoleOption[]> {
  const options: RoleOption[] = [];
  let nextToken: string | undefined;
  do {
    const got = await retry(() => send(access, what, () => page(nextToken)));
    options.push(...got.found);
    nextToken = got.nextToken || undefined;
  } while (nextToken && options.length <= MAX_OPTIONS);
  return options;
}

/** GetRoleCredentials for the target; all four fields are required (as the SDK's own SSO provider requires). */
export async function getRoleCredentials(access: PortalAccess, target: AwsRoleTarget): Promise<AwsRoleCredentials> {
  const sdk = ssoSdk();
  const what = `Getting credentials for role ${target.roleName} in AWS account ${target.accountId}`;
  let out;
  try {
    out = await access.sso.send(
      new sdk.GetRoleCredentialsCommand({ accessToken: access.accessToken, accountId: target.accountId, roleName: target.roleName }),
      { abortSignal: access.signal },
    );
  } catch (e) {
    const error = awsSsoError(e, what, access.signal);
    if (error.code === 'ACCESS_DENIED') {
      throw new IdentityError('ACCESS_DENIED', `${what} failed: that role is not assigned to you.`, { hint: CHOOSE_HINT, cause: error.cause });
    }
    throw error;
  }
  const c = out.roleCredentials;
  if (!c?.accessKeyId || !c.secretAccessKey || !c.sessionToken || !c.expiration) {
    throw new IdentityError('SERVER_ERROR', `${what}: AWS returned incomplete temporary credentials.`, { hint: 'Try again with a new request.' });
  }
  // `expiration` is epoch milliseconds (the SDK's own SSO credential provider does new Date(expiration)).
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: new Date(c.expiration) };
}

/**
 * Logout: ends the portal session, so the access token is worthless from here on. Never throws
 * (the caller has already dropped the token); returns the failure, if any, for the log.
 */
export async function logout(sso: SSOClient, accessToken: string): Promise<IdentityError | undefined> {
  try {
    await sso.send(new (ssoSdk().LogoutCommand)({ accessToken }));
    return undefined;
  } catch (e) {
    return awsSsoError(e, 'Logging out of AWS IAM Identity Center');
  }
}

async function send<T>(access: PortalAccess, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw awsSsoError(e, what, access.signal);
  }
}
