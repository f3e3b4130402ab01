import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_PORTS, type DestinationSpec } from './domain/destinationSpec';
import { ConfigError } from './domain/errors';
import type { SavedDestination } from './domain/savedDestination';
import { parseSecretRef } from './domain/secretRef';
import { parseApprovers, type ApprovalPolicy } from './workflow/approvalPolicy';
import { ENVIRONMENTS } from './workflow/regions';

/**
 * FileFerry's typed configuration, read from environment variables once at start-up and
 * validated with zod. Every error names the variable and says what a good value looks like, so a
 * misconfigured deployment stops at start rather than half-working. Nothing here is a secret
 * except `bot.appPassword`, which is only handed to the Bot Framework authentication.
 */
export interface AppConfig {
  port: number;
  nodeEnv: string;
  production: boolean;
  /** No MicrosoftAppId: Emulator/Playground, no channel authentication. */
  localMode: boolean;
  bot: {
    appId?: string;
    appPassword?: string;
    tenantId?: string;
    appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
  };
  /** Root of local state; sources live in `<dataDir>/sources/<bucket>/…`. */
  dataDir: string;
  sourcesDir: string;
  /** Base URL of this server, for local ticket links. */
  publicUrl: string;
  destinations: SavedDestination[];
  /** One backend per port, chosen by its FILEFERRY_<PORT> variable (see `PORT_KINDS`). */
  ticketing: TicketingConfig;
  store: StoreConfig;
  notifier: NotifierConfig;
  assignmentGroups: string[];
  allowAdHoc: boolean;
  allowPlainFtp: boolean;
  autoLogoutSeconds: number;
  /** A sign-in session unused this long ends (FILEFERRY_BROWSE_IDLE_SECONDS). */
  browseIdleSeconds: number;
  /** Sign-in per cloud; a cloud left out signs in locally (over the local folder source). */
  signIn: SignInConfig;
  /** FILEFERRY_AUDIT_KEY_REF: the HMAC key of the audit chain, by secret reference. */
  auditKeyRef?: string;
  /** FILEFERRY_PUSH_RULES_FILE: push mode's rules (read and validated by src/push/pushRules.ts). */
  pushRulesFile?: string;
  /** Approval for protected environments (see approvalOf); unset: no request waits for an approver. */
  approval?: ApprovalPolicy;
  logLevel: string;
}

const secretRef = z.string().refine(
  (v) => {
    try {
      parseSecretRef(v);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a secret reference such as env:NAME, file:/path, aws-sm:id#key or azure-kv:vault/name' },
);

const savedLocal = z.object({
  name: z.string().min(1).max(80),
  protocol: z.literal('local'),
  root: z.string().min(1),
  remoteFolder: z.string().startsWith('/').default('/'),
});

const savedRemote = z.object({
  name: z.string().min(1).max(80),
  protocol: z.enum(['sftp', 'ftps', 'ftp']),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535).optional(),
  username: z.string().min(1).max(128),
  remoteFolder: z.string().startsWith('/'),
  /** SFTP only: the server's pinned key, "SHA256:<base64>" as ssh-keygen -lf prints it. */
  hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/).optional(),
  /** Where the password lives, as a secret reference (read when a transfer connects). */
  passwordRef: secretRef.optional(),
  /** The older names for the same: an environment variable, or a reference. */
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  secretRef: secretRef.optional(),
  /** SFTP only: a private key by reference (key authentication), and its passphrase. */
  privateKeyRef: secretRef.optional(),
  passphraseRef: secretRef.optional(),
  /** FTPS only: a PEM file of the private CA that signs the server's certificate. */
  caFile: z.string().min(1).optional(),
  /** SFTP only: compare the server's own SHA-256 (`sha256sum` over SSH; needs a shell account). */
  allowRemoteHash: z.boolean().optional(),
  /** SFTP only: SSH connections that write one large file at once (for a distant server). */
  connections: z.number().int().min(1).max(16).optional(),
});

const savedDestination = z.discriminatedUnion('protocol', [savedLocal, savedRemote]);
type SavedDestinationEntry = z.infer<typeof savedDestination>;

const bool = (name: string, fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const s = v.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      ctx.addIssue({ code: 'custom', message: `${name} must be true or false` });
      return z.NEVER;
    });

const intIn = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? String(fallback) : v.trim()))
    .pipe(z.string().regex(/^\d+$/, `must be a whole number from ${min} to ${max}`))
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/**
 * The kinds of backend each port can have, one selector variable each. A kind's own settings are
 * the environment variables its schema names (so an issue's path names the variable to fix). The
 * adapter registry must have a factory for every kind listed here (checked at compile time).
 */
const PORT_KINDS = {
  ticketing: {
    variable: 'FILEFERRY_TICKETING',
    fallback: 'local',
    schema: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('local') }),
      z.object({
        kind: z.literal('servicenow'),
        SERVICENOW_INSTANCE_URL: z.url({ message: 'must be the instance URL, such as https://acme.service-now.com' }),
        SERVICENOW_USERNAME: optionalText,
        SERVICENOW_PASSWORD_REF: secretRef.optional(),
        SERVICENOW_CLIENT_ID: optionalText,
        SERVICENOW_CLIENT_SECRET_REF: secretRef.optional(),
        SERVICENOW_REQUEST_TABLE: optionalText.transform((v) => v ?? 'incident'),
        SERVICENOW_AUDIT_TABLE: optionalText.transform((v) => v ?? 'incident'),
        SERVICENOW_AUDIT_GROUP: optionalText,
        SERVICENOW_FIELD_MAP_FILE: optionalText,
        SERVICENOW_CLOSE_STATE: optionalText,
        SERVICENOW_CLOSE_CODE: optionalText,
        SERVICENOW_FAIL_STATE: optionalText,
        SERVICENOW_FAIL_CLOSE_CODE: optionalText,
        SERVICENOW_TIMEOUT_SECONDS: intIn(1, 300, 15),
      }),
    ]),
  },
  store: {
    variable: 'FILEFERRY_STORE',
    fallback: 'sqlite',
    schema: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('sqlite') }),
      z.object({ kind: z.literal('memory') }),
      z.object({
        kind: z.literal('dynamodb'),
        FILEFERRY_DYNAMODB_TABLE_PREFIX: optionalText.transform((v) => v ?? 'FileFerry').pipe(z.string().regex(/^[A-Za-z0-9_.-]{0,200}$/, 'may hold only letters, digits, "_", "." and "-"')),
        FILEFERRY_DYNAMODB_REQUEST_TTL_DAYS: intIn(0, 36500, 90),
      }),
      z.object({
        kind: z.literal('cosmos'),
        COSMOS_ENDPOINT: z.url({ message: 'must be the account endpoint, such as https://acme.documents.azure.com:443/' }).refine((v) => v.startsWith('https://'), 'must be https'),
        COSMOS_DATABASE: optionalText.transform((v) => v ?? 'fileferry'),
        COSMOS_KEY_REF: secretRef.optional(),
      }),
    ]),
  },
  notifier: {
    variable: 'FILEFERRY_NOTIFIER',
    fallback: 'log',
    schema: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('log') }),
      z.object({
        kind: z.literal('teams-workflow'),
        // The URL's signature is its only protection, so it is a secret: a bare URL here would sit
        // in plain text wherever the environment is shown (and in the error naming a bad reference).
        FILEFERRY_AUDIT_WEBHOOK_URL: z
          .string({ message: 'must be set to a secret reference to the Workflows webhook URL, such as env:AUDIT_WEBHOOK' })
          .trim()
          .refine((v) => !/^https?:/i.test(v), 'holds a URL, but the webhook URL is a credential: store it as a secret and give its reference here (env:NAME, file:/path, aws-sm:…, azure-kv:…)')
          .pipe(secretRef),
      }),
      z.object({
        kind: z.literal('teams-channel'),
        FILEFERRY_AUDIT_CHANNEL_ID: optionalText.pipe(z.string().regex(/^19:\S+@thread\.(tacv2|skype)$/, 'must be a Teams channel ID such as 19:…@thread.tacv2').optional()),
      }),
    ]),
  },
} as const;

export type TicketingConfig = z.infer<(typeof PORT_KINDS)['ticketing']['schema']>;
export type StoreConfig = z.infer<(typeof PORT_KINDS)['store']['schema']>;
export type NotifierConfig = z.infer<(typeof PORT_KINDS)['notifier']['schema']>;

/** Parses one port's selector and its kind's settings; an unknown kind names the variable and lists the valid ones. */
function portKind<P extends keyof typeof PORT_KINDS>(port: P, env: NodeJS.ProcessEnv): z.infer<(typeof PORT_KINDS)[P]['schema']> {
  const { variable, fallback, schema } = PORT_KINDS[port];
  const kind = env[variable]?.trim() || fallback;
  const parsed = schema.safeParse({ ...env, kind });
  if (parsed.success) return parsed.data as z.infer<(typeof PORT_KINDS)[P]['schema']>;
  const issue = parsed.error.issues[0]!;
  const kinds = schema.options.map((o) => o.shape.kind.value);
  if (issue.path[0] === 'kind') {
    throw new ConfigError(`${variable}=${JSON.stringify(kind)} is not a ${port} backend FileFerry knows.`, `Set ${variable} to one of: ${kinds.join(', ')} (or unset it for ${fallback}).`);
  }
  const setting = String(issue.path[0] ?? variable);
  throw new ConfigError(`The environment variable ${setting} (needed by ${variable}=${kind}) is invalid: ${issue.message}.`, `Set ${setting}; see the README's configuration table.`);
}

const envSchema = z.object({
  PORT: intIn(1, 65535, 3978),
  NODE_ENV: z.string().optional().transform((v) => v?.trim() || 'development'),
  MicrosoftAppId: optionalText,
  MicrosoftAppPassword: optionalText,
  MicrosoftAppTenantId: optionalText,
  MicrosoftAppType: z
    .string()
    .optional()
    .transform((v) => v?.trim() || 'MultiTenant')
    .pipe(z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI'])),
  FILEFERRY_DATA_DIR: z.string().optional().transform((v) => resolve(v?.trim() || './data')),
  FILEFERRY_PUBLIC_URL: optionalText.pipe(z.url().optional()),
  FILEFERRY_DESTINATIONS_FILE: optionalText,
  FILEFERRY_ASSIGNMENT_GROUPS: z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v : 'DataOps,DevOps,Infrastructure').split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().max(80)).min(1, 'must name at least one group')),
  FILEFERRY_ALLOW_ADHOC: bool('FILEFERRY_ALLOW_ADHOC', true),
  FILEFERRY_ALLOW_PLAIN_FTP: bool('FILEFERRY_ALLOW_PLAIN_FTP', false),
  FILEFERRY_AUTO_LOGOUT_SECONDS: intIn(1, 3600, 10),
  FILEFERRY_BROWSE_IDLE_SECONDS: intIn(10, 3600, 300),
  FILEFERRY_AUDIT_KEY_REF: optionalText.pipe(secretRef.optional()),
  FILEFERRY_PUSH_RULES_FILE: optionalText,
  FILEFERRY_AWS_SSO_START_URL: optionalText.pipe(z.url().optional()),
  FILEFERRY_AWS_SSO_REGION: optionalText.pipe(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1').optional()),
  FILEFERRY_AWS_ACCOUNT_ID: optionalText.pipe(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account ID').optional()),
  FILEFERRY_AWS_ROLE_NAME: optionalText,
  FILEFERRY_ENTRA_TENANT_ID: optionalText,
  FILEFERRY_ENTRA_CLIENT_ID: optionalText,
  FILEFERRY_ENTRA_AUTHORITY: optionalText.pipe(z.url().optional()),
  FILEFERRY_AZURE_STORAGE_ACCOUNTS: optionalText,
  FILEFERRY_APPROVAL_HOURS: intIn(1, 720, 24),
  SERVICENOW_APPROVAL_POLL_SECONDS: intIn(1, 3600, 60),
  LOG_LEVEL: z.string().optional().transform((v) => v?.trim() || 'info').pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
});

export interface SignInConfig {
  aws?: { startUrl: string; ssoRegion: string; accountId?: string; roleName?: string };
  entra?: { tenantId: string; clientId: string; authority?: string; storageAccounts: Record<string, string> };
}

/**
 * FILEFERRY_AWS_SSO_START_URL turns IAM Identity Center on for AWS; FILEFERRY_ENTRA_TENANT_ID and
 * FILEFERRY_ENTRA_CLIENT_ID turn Entra ID on for Azure, with FILEFERRY_AZURE_STORAGE_ACCOUNTS
 * mapping each location on the form to its blob account.
 */
function signInOf(e: z.infer<typeof envSchema>): SignInConfig {
  const out: SignInConfig = {};
  if (e.FILEFERRY_AWS_SSO_START_URL) {
    if (!e.FILEFERRY_AWS_SSO_REGION) throw new ConfigError('FILEFERRY_AWS_SSO_START_URL is set but FILEFERRY_AWS_SSO_REGION is not.', 'Set FILEFERRY_AWS_SSO_REGION to the region of your IAM Identity Center instance, such as eu-west-1.');
    out.aws = {
      startUrl: e.FILEFERRY_AWS_SSO_START_URL,
      ssoRegion: e.FILEFERRY_AWS_SSO_REGION,
      ...(e.FILEFERRY_AWS_ACCOUNT_ID ? { accountId: e.FILEFERRY_AWS_ACCOUNT_ID } : {}),
      ...(e.FILEFERRY_AWS_ROLE_NAME ? { roleName: e.FILEFERRY_AWS_ROLE_NAME } : {}),
    };
  }
  if (e.FILEFERRY_ENTRA_TENANT_ID || e.FILEFERRY_ENTRA_CLIENT_ID) {
    const missing = !e.FILEFERRY_ENTRA_TENANT_ID ? 'FILEFERRY_ENTRA_TENANT_ID' : !e.FILEFERRY_ENTRA_CLIENT_ID ? 'FILEFERRY_ENTRA_CLIENT_ID' : !e.FILEFERRY_AZURE_STORAGE_ACCOUNTS ? 'FILEFERRY_AZURE_STORAGE_ACCOUNTS' : undefined;
    if (missing) throw new ConfigError(`Entra ID sign-in is half configured: ${missing} is not set.`, 'Set FILEFERRY_ENTRA_TENANT_ID, FILEFERRY_ENTRA_CLIENT_ID (a public client app registration) and FILEFERRY_AZURE_STORAGE_ACCOUNTS together.');
    out.entra = {
      tenantId: e.FILEFERRY_ENTRA_TENANT_ID!,
      clientId: e.FILEFERRY_ENTRA_CLIENT_ID!,
      ...(e.FILEFERRY_ENTRA_AUTHORITY ? { authority: e.FILEFERRY_ENTRA_AUTHORITY } : {}),
      storageAccounts: storageAccountsOf(e.FILEFERRY_AZURE_STORAGE_ACCOUNTS!),
    };
  }
  return out;
}

/** "westeurope=https://acct1.blob.core.windows.net,eastus=https://acct2…" → { location: url }. */
function storageAccountsOf(text: string): Record<string, string> {
  const variable = 'FILEFERRY_AZURE_STORAGE_ACCOUNTS';
  const out: Record<string, string> = {};
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    const location = pair.slice(0, at).trim().toLowerCase();
    const url = pair.slice(at + 1).trim();
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (at <= 0 || !parsed || parsed.protocol !== 'https:' || parsed.search) {
      throw new ConfigError(`${variable}: ${JSON.stringify(pair)} is not location=https://<account>.blob.core.windows.net.`, 'Write each location and its blob account URL (https, no SAS query), separated by commas.');
    }
    if (out[location]) throw new ConfigError(`${variable}: the location ${location} is given twice.`, 'Give each location once.');
    out[location] = url.replace(/\/+$/, '');
  }
  return out;
}

/** Parses and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`The environment variable ${variable} is invalid: ${issue.message}.`, hintFor(variable));
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && !e.MicrosoftAppId) {
    throw new ConfigError(
      'NODE_ENV=production but MicrosoftAppId is not set: refusing to start without channel authentication.',
      'Set MicrosoftAppId (and MicrosoftAppPassword or MicrosoftAppType=UserAssignedMSI) to the bot registration, or unset NODE_ENV to run locally.',
    );
  }
  if (e.MicrosoftAppId && e.MicrosoftAppType !== 'UserAssignedMSI' && !e.MicrosoftAppPassword) {
    throw new ConfigError('MicrosoftAppId is set but MicrosoftAppPassword is not.', 'Set MicrosoftAppPassword to the bot registration\'s client secret.');
  }
  if (e.MicrosoftAppType === 'SingleTenant' && e.MicrosoftAppId && !e.MicrosoftAppTenantId) {
    throw new ConfigError('MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId.', 'Set MicrosoftAppTenantId to your Entra tenant ID.');
  }
  const destinations = e.FILEFERRY_DESTINATIONS_FILE
    ? readDestinations(e.FILEFERRY_DESTINATIONS_FILE)
    : [{ name: 'Local outbox', spec: { protocol: 'local' as const, root: resolve(e.FILEFERRY_DATA_DIR, 'outbox'), folder: '/', label: 'Local outbox' } }];
  return {
    port: e.PORT,
    nodeEnv: e.NODE_ENV,
    production,
    localMode: !e.MicrosoftAppId,
    bot: { appId: e.MicrosoftAppId, appPassword: e.MicrosoftAppPassword, tenantId: e.MicrosoftAppTenantId, appType: e.MicrosoftAppType },
    dataDir: e.FILEFERRY_DATA_DIR,
    sourcesDir: resolve(e.FILEFERRY_DATA_DIR, 'sources'),
    publicUrl: (e.FILEFERRY_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    destinations,
    ticketing: portKind('ticketing', env),
    store: portKind('store', env),
    notifier: portKind('notifier', env),
    assignmentGroups: e.FILEFERRY_ASSIGNMENT_GROUPS,
    allowAdHoc: e.FILEFERRY_ALLOW_ADHOC,
    allowPlainFtp: e.FILEFERRY_ALLOW_PLAIN_FTP,
    autoLogoutSeconds: e.FILEFERRY_AUTO_LOGOUT_SECONDS,
    browseIdleSeconds: e.FILEFERRY_BROWSE_IDLE_SECONDS,
    ...(e.FILEFERRY_AUDIT_KEY_REF ? { auditKeyRef: e.FILEFERRY_AUDIT_KEY_REF } : {}),
    ...(e.FILEFERRY_PUSH_RULES_FILE ? { pushRulesFile: resolve(e.FILEFERRY_PUSH_RULES_FILE) } : {}),
    signIn: signInOf(e),
    logLevel: e.LOG_LEVEL,
    ...approvalOf(env, e),
  };
}

/**
 * FILEFERRY_APPROVAL_ENVIRONMENTS (default PROD; set but empty turns approvals off) names the
 * protected environments. The policy applies once someone can decide: FILEFERRY_APPROVERS (group →
 * approvers) or SERVICENOW_APPROVAL=servicenow. With neither, no request waits, so the embedded
 * defaults (`npm start`, no configuration) still run the whole flow; a group the approver map
 * leaves out is refused at submit, never left waiting for nobody.
 */
function approvalOf(env: NodeJS.ProcessEnv, e: z.infer<typeof envSchema>): { approval?: ApprovalPolicy } {
  const raw = env.FILEFERRY_APPROVAL_ENVIRONMENTS;
  const environments = (raw === undefined ? 'PROD' : raw).split(',').map((v) => v.trim().toUpperCase()).filter(Boolean);
  for (const name of environments) {
    if (!(ENVIRONMENTS as readonly string[]).includes(name)) {
      throw new ConfigError(`FILEFERRY_APPROVAL_ENVIRONMENTS names "${name}", which is not an environment on the request form.`, `Use a comma-separated list of ${ENVIRONMENTS.join(', ')}, or set it empty to turn approvals off.`);
    }
  }
  const via = env.SERVICENOW_APPROVAL?.trim().toLowerCase() || undefined;
  if (via !== undefined && via !== 'servicenow') {
    throw new ConfigError(`SERVICENOW_APPROVAL=${JSON.stringify(env.SERVICENOW_APPROVAL)} is not a value FileFerry knows.`, 'Set SERVICENOW_APPROVAL=servicenow to take approvals from ServiceNow, or unset it for approvals in Teams.');
  }
  if (via && (env.FILEFERRY_TICKETING?.trim() || 'local') !== 'servicenow') {
    throw new ConfigError('SERVICENOW_APPROVAL=servicenow needs FILEFERRY_TICKETING=servicenow.', 'Set FILEFERRY_TICKETING=servicenow (and its SERVICENOW_* settings), or unset SERVICENOW_APPROVAL.');
  }
  const approversText = env.FILEFERRY_APPROVERS?.trim();
  // In production a protected environment with nobody to decide would move PROD files unapproved
  // without anyone noticing: refuse to start instead. Locally (npm start) the flow runs without.
  if (e.NODE_ENV === 'production' && environments.length > 0 && !via && !approversText) {
    throw new ConfigError(
      `NODE_ENV=production and ${environments.join(', ')} requests need approval (FILEFERRY_APPROVAL_ENVIRONMENTS), but FILEFERRY_APPROVERS is not set.`,
      'Set FILEFERRY_APPROVERS to the approvers of each assignment group (README, "Approvals"), or SERVICENOW_APPROVAL=servicenow, or set FILEFERRY_APPROVAL_ENVIRONMENTS= (empty) to run without approvals.',
    );
  }
  if (environments.length === 0 || (!via && !approversText)) return {};
  const approvers = via || !approversText ? {} : parseApprovers(approversText, e.FILEFERRY_ASSIGNMENT_GROUPS);
  return {
    approval: { environments, via: via ? 'servicenow' : 'teams', approvers, hours: e.FILEFERRY_APPROVAL_HOURS, pollSeconds: e.SERVICENOW_APPROVAL_POLL_SECONDS },
  };
}

/**
 * Reads FILEFERRY_DESTINATIONS_FILE: a JSON array of saved destinations, each turned into a
 * DestinationSpec. Secret references are checked for form here; whether they resolve is checked at
 * start-up by the secret store (see the composition root).
 */
function readDestinations(file: string): SavedDestination[] {
  const variable = 'FILEFERRY_DESTINATIONS_FILE';
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${variable} (${file}) could not be read as JSON: ${(e as Error).message}`, 'Point it at a JSON file holding an array of destinations.');
  }
  const parsed = z.array(savedDestination).min(1).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(
      `${variable} (${file}) is invalid at ${issue.path.join('.') || 'the top level'}: ${issue.message}.`,
      'Each entry needs name, protocol (local, sftp, ftps, ftp) and, for servers, host, username, remoteFolder and passwordRef (or privateKeyRef for SFTP).',
    );
  }
  const names = new Set<string>();
  return parsed.data.map((d) => {
    if (names.has(d.name.toLowerCase())) throw new ConfigError(`${variable}: the destination name "${d.name}" is used twice.`, 'Give every destination its own name.');
    names.add(d.name.toLowerCase());
    return { name: d.name, spec: specOf(d, variable) };
  });
}

function specOf(d: SavedDestinationEntry, variable: string): DestinationSpec {
  if (d.protocol === 'local') return { protocol: 'local', root: resolve(d.root), folder: d.remoteFolder, label: d.name };
  const where = `${variable}: the destination "${d.name}"`;
  const passwordRef = d.passwordRef ?? d.secretRef ?? (d.passwordEnv ? `env:${d.passwordEnv}` : undefined);
  const server = { host: d.host, port: d.port ?? DEFAULT_PORTS[d.protocol], username: d.username, folder: d.remoteFolder, ...(passwordRef ? { passwordRef } : {}) };
  if (d.protocol === 'sftp') {
    if (!d.hostKeyFingerprint) throw new ConfigError(`${where} has no hostKeyFingerprint.`, 'Pin the server key: ssh-keyscan the host and run ssh-keygen -lf on the result.');
    if (!passwordRef && !d.privateKeyRef) throw new ConfigError(`${where} has neither a password (passwordRef) nor a private key (privateKeyRef).`, 'Name where its password or key lives, such as "passwordRef": "env:ACME_PASSWORD".');
    if (d.caFile) throw new ConfigError(`${where} is SFTP, which has no caFile (that is for FTPS).`, 'Remove caFile; SFTP servers are trusted by hostKeyFingerprint.');
    return {
      protocol: 'sftp',
      ...server,
      hostKey: { fingerprint: d.hostKeyFingerprint },
      ...(d.privateKeyRef ? { privateKeyRef: d.privateKeyRef } : {}),
      ...(d.passphraseRef ? { passphraseRef: d.passphraseRef } : {}),
      allowRemoteHash: d.allowRemoteHash ?? false,
      ...(d.connections !== undefined ? { connections: d.connections } : {}),
    };
  }
  if (!passwordRef) throw new ConfigError(`${where} has no password reference (passwordRef).`, 'Name where its password lives, such as "passwordRef": "env:ACME_PASSWORD".');
  for (const field of ['hostKeyFingerprint', 'privateKeyRef', 'passphraseRef', 'allowRemoteHash', 'connections'] as const) {
    if (d[field] !== undefined) throw new ConfigError(`${where} is ${d.protocol.toUpperCase()}, which has no ${field} (that is for SFTP).`, `Remove ${field}.`);
  }
  // A saved plain-FTP destination is the operator's explicit consent.
  return { protocol: d.protocol, ...server, ...(d.caFile ? { caFile: resolve(d.caFile) } : {}), allowPlainFtp: d.protocol === 'ftp' };
}

function hintFor(variable: string): string {
  const hints: Record<string, string> = {
    PORT: 'Use a TCP port such as 3978.',
    MicrosoftAppType: 'Use MultiTenant, SingleTenant or UserAssignedMSI.',
    FILEFERRY_PUBLIC_URL: 'Use the URL people reach this server at, such as https://fileferry.example.com.',
    FILEFERRY_ASSIGNMENT_GROUPS: 'Use a comma-separated list such as "DataOps,DevOps".',
    FILEFERRY_AUTO_LOGOUT_SECONDS: 'Use a number of seconds such as 10.',
    LOG_LEVEL: 'Use one of fatal, error, warn, info, debug, trace, silent.',
  };
  return hints[variable] ?? `Fix or unset ${variable}.`;
}
