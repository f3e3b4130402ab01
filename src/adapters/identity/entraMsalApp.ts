import { LogLevel, PublicClientApplication, type INetworkModule } from '@azure/msal-node';
import { IdentityError } from '../../domain/errors';
import type { WorkflowLog } from '../../ports/workflowLog';

const JWT = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;

/**
 * The authority MSAL talks to: `authority` when given (a sovereign cloud, a test server; a bare
 * host gets `/<tenant>` appended), else https://login.microsoftonline.com/<tenant>. It must be
 * https: MSAL refuses anything else (authority_uri_insecure), so this says so up front.
 */
export function entraAuthority(tenantId: string, authority?: string): string {
  if (!/^[\w.-]+$/.test(tenantId)) {
    throw new IdentityError('INVALID_CONFIG', 'The Entra ID tenant must be a tenant ID (a GUID) or a domain name.', { hint: 'Set FILEFERRY_ENTRA_TENANT_ID to the directory (tenant) ID of the app registration.' });
  }
  if (!authority) return `https://login.microsoftonline.com/${tenantId}`;
  let url: URL;
  try {
    url = new URL(authority);
  } catch {
    throw new IdentityError('INVALID_CONFIG', `The Entra ID authority "${authority}" is not a URL.`, { hint: 'Set FILEFERRY_ENTRA_AUTHORITY to https://<login host>/<tenant>, or leave it unset for the public cloud.' });
  }
  if (url.protocol !== 'https:' || url.search || url.hash || url.username || url.password) {
    throw new IdentityError('INVALID_CONFIG', `The Entra ID authority ${url.origin}${url.pathname} must be a plain https URL.`, { hint: 'Set FILEFERRY_ENTRA_AUTHORITY to https://<login host>/<tenant> (MSAL accepts https only).' });
  }
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}${path || `/${tenantId}`}`;
}

/** Removes anything token-shaped and the given codes from an MSAL log line (a second net: MSAL logs no PII here). */
export function scrubMsalLine(message: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = message.replace(JWT, '[token]');
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[code]');
  return out;
}

/**
 * A fresh PublicClientApplication for one sign-in, so its in-memory token cache holds one
 * person's tokens for as long as the sign-in runs and is dropped with it. The authority's host
 * is a known authority: MSAL builds the cloud discovery metadata locally instead of asking
 * login.microsoftonline.com (instance discovery), and accepts the OpenID configuration's issuer
 * on that host. MSAL's own lines go to `log` at debug, PII logging off, tokens scrubbed.
 */
export function signInApp(options: {
  clientId: string;
  authority: string;
  networkClient: INetworkModule;
  log?: WorkflowLog;
  requestId: string;
  /** Codes to keep out of MSAL's lines (device code, user code), read when a line is written. */
  secrets: () => ReadonlyArray<string | undefined>;
}): PublicClientApplication {
  const { log, requestId } = options;
  return new PublicClientApplication({
    auth: { clientId: options.clientId, authority: options.authority, knownAuthorities: [new URL(options.authority).host] },
    system: {
      networkClient: options.networkClient,
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: log ? LogLevel.Verbose : LogLevel.Error,
        loggerCallback: (level, message, containsPii) => {
          if (!log || containsPii) return;
          log.debug({ requestId, msalLevel: LogLevel[level] }, `MSAL: ${scrubMsalLine(message, options.secrets())}`);
        },
      },
    },
  });
}
