import type { TokenCredential } from '@azure/identity';
import type { SecretClient, SecretClientOptions } from '@azure/keyvault-secrets';
import { SecretsError } from '../../domain/errors';
import { describeRef, parseSecretRef, type SecretRef } from '../../domain/secretRef';
import type { SchemeSecretStore } from '../../ports/secretStore';
import { keyVaultError } from './azureKeyVaultErrors';
import { invalidRef, withDeadline } from './secretErrors';

export interface AzureKeyVaultSecretsOptions {
  /** Default: DefaultAzureCredential (managed identity, workload identity, AZURE_* variables, az login). */
  credential?: TokenCredential;
  /**
   * The vault's URL from its name. Default `https://<vault>.vault.azure.net` (Azure's public
   * cloud); sovereign clouds use another suffix (vault.azure.cn, vault.usgovcloudapi.net). It must
   * give an https URL: a bearer token is never sent in clear.
   */
  vaultUrl?: (vault: string) => string;
  /** Passed to every SecretClient (tests use it to trust a private CA); it may override the no-retry default. */
  clientOptions?: SecretClientOptions;
  /** Bound on one resolve, the token included. Default 10 s. */
  timeoutMs?: number;
}

/** Key Vault's naming rules: vaults 3–24 of letters, digits and single hyphens; secrets 1–127 of letters, digits, hyphens. */
const VAULT = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;
const SECRET_NAME = /^[A-Za-z0-9-]{1,127}$/;
/** Key Vault issues 32 hex digits; anything alphanumeric is accepted so a format change does not break references. */
const VERSION = /^[A-Za-z0-9]{1,64}$/;
const DEFAULT_TIMEOUT_MS = 10_000;
const FORM = 'Write it as azure-kv:<vault>/<secret name>[/<version>], such as azure-kv:acme-vault/sftp-password.';

interface KeyVaultLocation {
  vaultUrl: string;
  name: string;
  version?: string;
}

/**
 * `azure-kv:<vault>/<name>[/<version>]`: an Azure Key Vault secret, its current version unless
 * one is named. Each resolve asks the vault (no caching), so a rotation applies to the next
 * transfer. The SDK and DefaultAzureCredential load on first use; one SecretClient per vault is
 * kept, which keeps its token and challenge state. One attempt per call: the caller retries.
 */
export class AzureKeyVaultSecrets implements SchemeSecretStore {
  readonly scheme = 'azure-kv';
  private readonly clients = new Map<string, SecretClient>();
  private credential: TokenCredential | undefined;
  private readonly vaultUrl: (vault: string) => string;
  private readonly timeoutMs: number;

  constructor(private readonly options: AzureKeyVaultSecretsOptions = {}) {
    this.credential = options.credential;
    this.vaultUrl = options.vaultUrl ?? ((vault) => `https://${vault}.vault.azure.net`);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  check(ref: SecretRef): void {
    this.locate(ref);
  }

  async resolve(ref: SecretRef, signal?: AbortSignal): Promise<string> {
    const { vaultUrl, name, version } = this.locate(ref);
    const secret = await withDeadline(
      ref,
      `The Key Vault ${vaultUrl}`,
      this.timeoutMs,
      signal,
      (abortSignal) => this.client(vaultUrl).getSecret(name, { ...(version ? { version } : {}), abortSignal }),
      (e) => keyVaultError(ref, vaultUrl, e),
    );
    if (typeof secret.value !== 'string') {
      throw new SecretsError('SECRET_NOT_FOUND', `The Key Vault ${vaultUrl} returned no value for the secret ${describeRef(ref)}.`, {
        hint: 'Give the secret a value, or name a version that has one.',
      });
    }
    return secret.value;
  }

  private client(vaultUrl: string): SecretClient {
    let client = this.clients.get(vaultUrl);
    if (!client) {
      // Loaded on first use: the two SDKs cost ~250 ms to load, and most deployments never need them.
      const { SecretClient } = require('@azure/keyvault-secrets') as typeof import('@azure/keyvault-secrets');
      this.credential ??= new (require('@azure/identity') as typeof import('@azure/identity')).DefaultAzureCredential();
      // No SDK retries underneath the caller's own (which see and audit each attempt).
      client = new SecretClient(vaultUrl, this.credential, { retryOptions: { maxRetries: 0 }, ...this.options.clientOptions });
      this.clients.set(vaultUrl, client);
    }
    return client;
  }

  private locate(ref: SecretRef): KeyVaultLocation {
    const { scheme, locator } = parseSecretRef(ref);
    if (scheme !== this.scheme) throw invalidRef(ref, `it is not an ${this.scheme}: reference`, FORM);
    const parts = locator.split('/');
    const [vault = '', name = '', version] = parts;
    if (parts.length < 2 || parts.length > 3) throw invalidRef(ref, 'it needs a vault and a secret name, and at most a version after them', FORM);
    if (!VAULT.test(vault)) throw invalidRef(ref, `${JSON.stringify(vault)} is not a Key Vault name (3-24 letters, digits and single hyphens, starting with a letter)`, FORM);
    if (!SECRET_NAME.test(name)) throw invalidRef(ref, `${JSON.stringify(name)} is not a Key Vault secret name (letters, digits and hyphens)`, FORM);
    if (version !== undefined && !VERSION.test(version)) throw invalidRef(ref, `${JSON.stringify(version)} is not a secret version (the 32 hex digits Key Vault shows)`, FORM);
    return { vaultUrl: this.httpsUrl(ref, vault), name, ...(version === undefined ? {} : { version }) };
  }

  /** The vault's base URL, refused unless https (the token would travel in clear). */
  private httpsUrl(ref: SecretRef, vault: string): string {
    const raw = this.vaultUrl(vault);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new SecretsError('INVALID_CONFIG', `The Key Vault URL for ${describeRef(ref)} is not a URL: ${JSON.stringify(raw)}.`, {
        hint: 'Check the Key Vault URL suffix FileFerry is configured with (such as vault.azure.net).',
      });
    }
    if (url.protocol !== 'https:') {
      throw new SecretsError('PLAINTEXT_NOT_ALLOWED', `The Key Vault URL ${url.origin} for ${describeRef(ref)} is not https, and FileFerry sends vault tokens only over TLS.`, {
        hint: 'Use the vault’s https:// URL.',
      });
    }
    return url.origin;
  }
}
