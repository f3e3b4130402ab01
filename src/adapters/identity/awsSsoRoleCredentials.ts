import type { SSOClient } from '@aws-sdk/client-sso';
import { IdentityError } from '../../domain/errors';
import { ssoSdk, type AwsRoleCredentials } from './awsSsoClients';
import { awsSsoError } from './awsSsoErrors';

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

/**
 * The account and role to read with: the configured ones, else the only account the user is
 * assigned (ListAccounts) and the only role in it (ListAccountRoles). None is ACCESS_DENIED;
 * several is ACCESS_DENIED naming the variables to set (choosing on a card is a follow-up).
 */
export async function chooseRole(access: PortalAccess, configured: Partial<AwsRoleTarget>): Promise<AwsRoleTarget> {
  const accountId = configured.accountId ?? (await onlyAccount(access));
  const roleName = configured.roleName ?? (await onlyRole(access, accountId));
  return { accountId, roleName };
}

async function onlyAccount(access: PortalAccess): Promise<string> {
  const sdk = ssoSdk();
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await send(access, 'Listing your AWS accounts', () =>
      access.sso.send(new sdk.ListAccountsCommand({ accessToken: access.accessToken, nextToken }), { abortSignal: access.signal }),
    );
    for (const a of page.accountList ?? []) if (a.accountId) ids.push(a.accountId);
    nextToken = page.nextToken || undefined;
  } while (nextToken && ids.length < 2);
  if (ids.length === 0) {
    throw new IdentityError('ACCESS_DENIED', 'You are signed in at AWS IAM Identity Center, but no AWS account is assigned to you.', {
      hint: 'Ask your AWS administrator to assign you the account and permission set FileFerry uses.',
    });
  }
  if (ids.length > 1) {
    throw new IdentityError('ACCESS_DENIED', 'Several AWS accounts are assigned to you, and FileFerry is not configured with the one to use.', {
      hint: CHOOSE_HINT,
    });
  }
  return ids[0]!;
}

async function onlyRole(access: PortalAccess, accountId: string): Promise<string> {
  const sdk = ssoSdk();
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await send(access, `Listing your roles in AWS account ${accountId}`, () =>
      access.sso.send(new sdk.ListAccountRolesCommand({ accessToken: access.accessToken, accountId, nextToken }), { abortSignal: access.signal }),
    );
    for (const r of page.roleList ?? []) if (r.roleName) names.push(r.roleName);
    nextToken = page.nextToken || undefined;
  } while (nextToken && names.length < 2);
  if (names.length === 0) {
    throw new IdentityError('ACCESS_DENIED', `No permission set (role) in AWS account ${accountId} is assigned to you.`, {
      hint: 'Ask your AWS administrator to assign you the permission set FileFerry uses in that account.',
    });
  }
  if (names.length > 1) {
    throw new IdentityError('ACCESS_DENIED', `Several roles in AWS account ${accountId} are assigned to you, and FileFerry is not configured with the one to use.`, {
      hint: 'Set FILEFERRY_AWS_ROLE_NAME to the permission set FileFerry should use (and FILEFERRY_AWS_ACCOUNT_ID to the account).',
    });
  }
  return names[0]!;
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
