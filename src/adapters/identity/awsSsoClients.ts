import type { SSOClient } from '@aws-sdk/client-sso';
import type { SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import type { STSClient } from '@aws-sdk/client-sts';

export type OidcSdk = typeof import('@aws-sdk/client-sso-oidc');
export type SsoSdk = typeof import('@aws-sdk/client-sso');
export type StsSdk = typeof import('@aws-sdk/client-sts');

/** Role credentials from GetRoleCredentials, as the session's source and STS get them. */
export interface AwsRoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** Builds the STS client that checks who a set of role credentials belongs to. */
export type StsClientFactory = (credentials: AwsRoleCredentials, region: string) => STSClient;

// The SDKs load on first use, not at import: a FileFerry without IAM Identity Center configured
// (the local default) never pays for them at start-up.
let oidc: OidcSdk | undefined;
let sso: SsoSdk | undefined;
let sts: StsSdk | undefined;
export const oidcSdk = (): OidcSdk => (oidc ??= require('@aws-sdk/client-sso-oidc') as OidcSdk);
export const ssoSdk = (): SsoSdk => (sso ??= require('@aws-sdk/client-sso') as SsoSdk);
export const stsSdk = (): StsSdk => (sts ??= require('@aws-sdk/client-sts') as StsSdk);

/**
 * What every client here shares. No `endpoint`: the SDK itself resolves AWS_ENDPOINT_URL_SSO_OIDC,
 * AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL_STS (then AWS_ENDPOINT_URL, then the profile's
 * endpoint_url) from each client's serviceId ("SSO OIDC", "SSO", "STS"), in @smithy/core
 * endpoints getEndpointUrlConfig. One attempt per call: the device-code poller and the workflow
 * decide about waiting and retrying, and see every attempt.
 */
function common(region: string): { region: string; maxAttempts: number; requestHandler: { connectionTimeout: number; requestTimeout: number } } {
  return { region, maxAttempts: 1, requestHandler: { connectionTimeout: 10_000, requestTimeout: 30_000 } };
}

export function defaultOidcClient(region: string): SSOOIDCClient {
  return new (oidcSdk().SSOOIDCClient)(common(region));
}

export function defaultSsoClient(region: string): SSOClient {
  return new (ssoSdk().SSOClient)(common(region));
}

/** An STS client signing with exactly these credentials (never the process's own chain). */
export const defaultStsClient: StsClientFactory = (credentials, region) =>
  new (stsSdk().STSClient)({
    ...common(region),
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      expiration: credentials.expiration,
    },
  });
