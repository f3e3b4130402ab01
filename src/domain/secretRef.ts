import { SecretsError } from './errors';

/**
 * Where a secret lives, never the secret itself: `<scheme>:<locator>`.
 * - `env:NAME`: an environment variable of this process;
 * - `file:/path`: a file's contents (a mounted Kubernetes or Docker secret, an SSH key);
 * - `aws-sm:<secret id>[#json-key]`: AWS Secrets Manager, optionally one key of a JSON secret;
 * - `azure-kv:<vault>/<name>`: an Azure Key Vault secret;
 * - `typed:<what>`: typed on a card and held by the in-process transfer job only (never stored,
 *   so a job that needs one cannot run in another process or after a restart).
 * References are safe to store, log and put in a job: they name a place, not a value.
 */
export type SecretRef = string;

export interface ParsedSecretRef {
  scheme: string;
  locator: string;
}

const SHAPE = /^([a-z][a-z0-9-]*):(.+)$/s;

/** Splits a reference into scheme and locator; throws SecretsError INVALID_CONFIG naming it. */
export function parseSecretRef(ref: SecretRef): ParsedSecretRef {
  const m = typeof ref === 'string' ? SHAPE.exec(ref) : null;
  if (!m) {
    throw new SecretsError('INVALID_CONFIG', `${describeRef(ref)} is not a secret reference.`, {
      hint: 'Write it as scheme:locator, such as env:ACME_PASSWORD, aws-sm:prod/acme#password or azure-kv:myvault/acme-password.',
    });
  }
  return { scheme: m[1]!, locator: m[2]! };
}

/** The reference as it may appear in a message: itself, shortened, with control characters removed. */
export function describeRef(ref: unknown): string {
  if (typeof ref !== 'string') return 'The secret reference';
  const clean = ref.replace(/[\u0000-\u001f\u007f]/g, '?');
  return `"${clean.length > 120 ? `${clean.slice(0, 117)}...` : clean}"`;
}

/** The scheme of secrets typed on a card: held by the in-process job, resolvable nowhere else. */
export const TYPED_SCHEME = 'typed';
export const TYPED_PASSWORD: SecretRef = `${TYPED_SCHEME}:password`;
