import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './domain/errors';

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
  destinations: SavedDestinationConfig[];
  assignmentGroups: string[];
  allowAdHoc: boolean;
  allowPlainFtp: boolean;
  autoLogoutSeconds: number;
  logLevel: string;
}

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
  /** The environment variable that holds the password (read when a transfer starts). */
  passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).optional(),
  /** A secret-store reference; only "env:NAME" until the secret-store adapter exists. */
  secretRef: z.string().regex(/^env:[A-Za-z_][A-Za-z0-9_]*$/, 'only "env:NAME" references are supported so far').optional(),
});

const savedDestination = z.discriminatedUnion('protocol', [savedLocal, savedRemote]);
export type SavedDestinationConfig = z.infer<typeof savedDestination>;
export type SavedRemoteDestination = z.infer<typeof savedRemote>;

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
  LOG_LEVEL: z.string().optional().transform((v) => v?.trim() || 'info').pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
});

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
    ? readDestinations(e.FILEFERRY_DESTINATIONS_FILE, env)
    : [{ name: 'Local outbox', protocol: 'local' as const, root: resolve(e.FILEFERRY_DATA_DIR, 'outbox'), remoteFolder: '/' }];
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
    assignmentGroups: e.FILEFERRY_ASSIGNMENT_GROUPS,
    allowAdHoc: e.FILEFERRY_ALLOW_ADHOC,
    allowPlainFtp: e.FILEFERRY_ALLOW_PLAIN_FTP,
    autoLogoutSeconds: e.FILEFERRY_AUTO_LOGOUT_SECONDS,
    logLevel: e.LOG_LEVEL,
  };
}

/** Reads FILEFERRY_DESTINATIONS_FILE: a JSON array of saved destinations. */
function readDestinations(file: string, env: NodeJS.ProcessEnv): SavedDestinationConfig[] {
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
      'Each entry needs name, protocol (local, sftp, ftps, ftp) and, for servers, host, username, remoteFolder and passwordEnv.',
    );
  }
  const names = new Set<string>();
  for (const d of parsed.data) {
    if (names.has(d.name.toLowerCase())) throw new ConfigError(`${variable}: the destination name "${d.name}" is used twice.`, 'Give every destination its own name.');
    names.add(d.name.toLowerCase());
    if (d.protocol === 'local') {
      d.root = resolve(d.root);
      continue;
    }
    if (d.protocol === 'sftp' && !d.hostKeyFingerprint) {
      throw new ConfigError(`${variable}: the SFTP destination "${d.name}" has no hostKeyFingerprint.`, 'Pin the server key: ssh-keyscan the host and run ssh-keygen -lf on the result.');
    }
    const secretVar = d.passwordEnv ?? d.secretRef?.slice('env:'.length);
    if (!secretVar) throw new ConfigError(`${variable}: the destination "${d.name}" has neither passwordEnv nor secretRef.`, 'Name the environment variable that holds its password in passwordEnv.');
    if (!env[secretVar]) throw new ConfigError(`${variable}: the destination "${d.name}" reads its password from ${secretVar}, which is not set.`, `Set ${secretVar} in the environment.`);
  }
  return parsed.data;
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
