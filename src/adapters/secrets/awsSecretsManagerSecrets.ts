import type { GetSecretValueCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsError } from '../../domain/errors';
import { describeRef, parseSecretRef, type SecretRef } from '../../domain/secretRef';
import type { SchemeSecretStore } from '../../ports/secretStore';
import { awsSecretsError } from './awsSecretsManagerErrors';
import { invalidRef, withDeadline } from './secretErrors';

export interface AwsSecretsManagerSecretsOptions {
  /** A ready client (tests, or a root that shares one); `region` is then ignored. */
  client?: SecretsManagerClient;
  /** Default: the SDK's own chain (AWS_REGION, the profile's region). */
  region?: string;
  /** Bound on one resolve, credentials included. Default 10 s. */
  timeoutMs?: number;
}

/** A secret name (letters, digits, `/_+=.@-`) or a full ARN (which adds `:`), as AWS allows them. */
const SECRET_ID = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
const DEFAULT_TIMEOUT_MS = 10_000;

type Sdk = typeof import('@aws-sdk/client-secrets-manager');

/**
 * `aws-sm:<secret name or ARN>[#json-key]`: AWS Secrets Manager's current value of a secret
 * (SecretString, or SecretBinary read as UTF-8); with `#key`, the value is a JSON object and the
 * one top-level key is returned (how RDS and most rotated secrets store username and password).
 *
 * Nothing is cached: each resolve asks AWS, so a rotation applies to the next transfer. The SDK
 * and its client load on the first resolve, so a FileFerry that never names an aws-sm reference
 * pays nothing at start-up. The default client uses the SDK's credential chain and region, and
 * the SDK itself honours AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL (a private endpoint,
 * a test fake). It makes one attempt per call: whoever resolves decides about retrying, on
 * `retryable`, as everywhere in FileFerry.
 */
export class AwsSecretsManagerSecrets implements SchemeSecretStore {
  readonly scheme = 'aws-sm';
  private client: SecretsManagerClient | undefined;
  private sdk: Sdk | undefined;
  private readonly timeoutMs: number;

  constructor(private readonly options: AwsSecretsManagerSecretsOptions = {}) {
    this.client = options.client;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  check(ref: SecretRef): void {
    this.locate(ref);
  }

  async resolve(ref: SecretRef, signal?: AbortSignal): Promise<string> {
    const { secretId, jsonKey } = this.locate(ref);
    const output = await withDeadline(ref, 'AWS Secrets Manager', this.timeoutMs, signal, (s) => this.fetch(secretId, s), (e) => awsSecretsError(ref, e));
    const text = secretText(ref, output);
    return jsonKey === undefined ? text : jsonField(ref, text, jsonKey);
  }

  private async fetch(secretId: string, signal: AbortSignal): Promise<GetSecretValueCommandOutput> {
    const sdk = this.loadSdk();
    this.client ??= new sdk.SecretsManagerClient({
      ...(this.options.region ? { region: this.options.region } : {}),
      // One attempt: retries belong to the caller, which sees and audits each one.
      maxAttempts: 1,
      // Socket-level bounds under the overall deadline, so a dead endpoint frees its socket too.
      requestHandler: { connectionTimeout: Math.min(5_000, this.timeoutMs), requestTimeout: this.timeoutMs },
    });
    return this.client.send(new sdk.GetSecretValueCommand({ SecretId: secretId }), { abortSignal: signal });
  }

  private loadSdk(): Sdk {
    // Loaded here, not at the top: the SDK costs ~50 ms to load and most deployments never use it.
    return (this.sdk ??= require('@aws-sdk/client-secrets-manager') as Sdk);
  }

  private locate(ref: SecretRef): { secretId: string; jsonKey?: string } {
    const { scheme, locator } = parseSecretRef(ref);
    if (scheme !== this.scheme) throw invalidRef(ref, `it is not an ${this.scheme}: reference`, 'Write it as aws-sm:<secret name or ARN>[#json-key].');
    // Secret names cannot contain '#', so the first one starts the JSON key.
    const hash = locator.indexOf('#');
    const secretId = hash < 0 ? locator : locator.slice(0, hash);
    const jsonKey = hash < 0 ? undefined : locator.slice(hash + 1);
    if (!SECRET_ID.test(secretId)) {
      throw invalidRef(ref, 'a secret name has only letters, digits and / _ + = . @ - (an ARN also :)', 'Write it as aws-sm:prod/acme-sftp or aws-sm:arn:aws:secretsmanager:<region>:<account>:secret:<name>.');
    }
    if (jsonKey === '') throw invalidRef(ref, 'nothing follows the #', 'Write the JSON key after the #, such as aws-sm:prod/acme-sftp#password, or drop the #.');
    return { secretId, ...(jsonKey === undefined ? {} : { jsonKey }) };
  }
}

function secretText(ref: SecretRef, output: GetSecretValueCommandOutput): string {
  if (typeof output.SecretString === 'string') return output.SecretString;
  if (output.SecretBinary) return Buffer.from(output.SecretBinary).toString('utf8');
  throw new SecretsError('SECRET_NOT_FOUND', `AWS Secrets Manager returned no value for the secret ${describeRef(ref)}.`, {
    hint: 'Give the secret a value (a current version with SecretString or SecretBinary).',
  });
}

/**
 * One top-level key of a JSON secret. A parse error is reported without its own message, which
 * quotes the text it failed on, and that text is the secret.
 */
function jsonField(ref: SecretRef, text: string, key: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  const hint = 'Check the key after the # against the secret’s JSON (keys are case-sensitive), or drop the # to use the whole value.';
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new SecretsError('SECRET_NOT_FOUND', `The secret ${describeRef(ref)} is not a JSON object, so it has no key ${JSON.stringify(key)}.`, { hint });
  }
  if (!Object.prototype.hasOwnProperty.call(doc, key)) {
    throw new SecretsError('SECRET_NOT_FOUND', `The secret ${describeRef(ref)} has no top-level key ${JSON.stringify(key)}.`, { hint });
  }
  const value = (doc as Record<string, unknown>)[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new SecretsError('SECRET_NOT_FOUND', `The key ${JSON.stringify(key)} of the secret ${describeRef(ref)} holds ${value === null ? 'null' : 'an object'}, not a text value.`, { hint });
}
