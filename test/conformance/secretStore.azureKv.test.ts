import { strict as assert } from 'node:assert';
import type { GetTokenOptions, TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';
import { AzureKeyVaultSecrets } from '../../src/adapters/secrets/azureKeyVaultSecrets';
import { SecretsError, type ErrorCode } from '../../src/domain/errors';
import { expectFailure } from '../support/expectFailure';
import { FakeKeyVault, KEY_VAULT_RESOURCE } from '../support/fakeKeyVault';
import { tempDir } from '../support/tmp';
import { secretStoreConformance } from './secretStoreSuite';

const TOKEN = 'fileferry-test-access-token';

/** A credential that hands out a fixed token and records what the SDK asked it for. */
function staticCredential(token = TOKEN): TokenCredential & { asked: Array<{ scopes: string[]; tenantId?: string }> } {
  const asked: Array<{ scopes: string[]; tenantId?: string }> = [];
  return {
    asked,
    getToken: async (scopes: string | string[], options?: GetTokenOptions) => {
      asked.push({ scopes: [scopes].flat(), ...(options?.tenantId ? { tenantId: options.tenantId } : {}) });
      return { token, expiresOnTimestamp: Date.now() + 3600_000 };
    },
  };
}

describe('AzureKeyVaultSecrets', () => {
  let certs: { path: string; remove: () => Promise<void> };
  let fake: FakeKeyVault;
  /** Trust the fake's CA for these clients only, and accept its challenge naming vault.azure.net for a localhost URL. */
  let clientOptions: SecretClientOptions;
  /** vault-a and vault-b are the same fake under its two certificate names, so they are two vault URLs. */
  const vaultUrl = (vault: string): string => (vault === 'vault-b' ? fake.url.replace('localhost', '127.0.0.1') : fake.url);

  before(async () => {
    certs = await tempDir('key-vault-certs');
    fake = await FakeKeyVault.start({ certDir: certs.path, token: TOKEN });
    clientOptions = { tlsOptions: { ca: fake.caPem }, disableChallengeResourceVerification: true };
  });
  after(async () => {
    await fake.close();
    await certs.remove();
  });

  secretStoreConformance('azure-kv', async () => ({
    store: new AzureKeyVaultSecrets({ credential: staticCredential(), vaultUrl, clientOptions }),
    put: async (name, value) => (fake.put(name, value), `azure-kv:vault-a/${name}`),
    missingRef: 'azure-kv:vault-a/never-created',
    malformedRef: 'azure-kv:vault-a/name_with_underscore',
    stallNext: () => fake.stallNext(),
    cleanup: async () => undefined,
  }), { stalls: true });

  describe('specific to Key Vault', () => {
    const make = (options: Partial<ConstructorParameters<typeof AzureKeyVaultSecrets>[0]> = {}): AzureKeyVaultSecrets =>
      new AzureKeyVaultSecrets({ credential: staticCredential(), vaultUrl, clientOptions, ...options });

    it('a versioned reference reads that version, not the current one', async () => {
      const old = fake.put('rotated', 'old value');
      fake.put('rotated', 'new value');
      const store = make();
      assert.equal(await store.resolve(`azure-kv:vault-a/rotated/${old}`), 'old value');
      assert.equal(await store.resolve('azure-kv:vault-a/rotated'), 'new value');
      await expectFailure(store.resolve(`azure-kv:vault-a/rotated/${'0'.repeat(32)}`), { type: SecretsError, code: 'SECRET_NOT_FOUND', withHint: true });
    });

    it("answers the vault's challenge once per vault: tenant and scope from WWW-Authenticate, one client per vault", async () => {
      fake.put('chal', 'v');
      const credential = staticCredential();
      const store = make({ credential });
      const start = fake.requests.length;
      await store.resolve('azure-kv:vault-a/chal');
      await store.resolve('azure-kv:vault-a/chal');
      await store.resolve('azure-kv:vault-b/chal');
      assert.deepEqual(fake.requests.slice(start).map((r) => r.token ?? 'none'), ['none', TOKEN, TOKEN, 'none', TOKEN]);
      assert.ok(fake.requests.slice(start).every((r) => r.apiVersion === '2025-07-01'), JSON.stringify(fake.requests.slice(start)));
      assert.deepEqual(credential.asked, [
        { scopes: [`${KEY_VAULT_RESOURCE}/.default`], tenantId: fake.tenant },
        { scopes: [`${KEY_VAULT_RESOURCE}/.default`], tenantId: fake.tenant },
      ]);
    });

    it('a token the vault refuses is AUTH_FAILED', async () => {
      fake.put('auth', 'v');
      await expectFailure(make({ credential: staticCredential('wrong-token') }).resolve('azure-kv:vault-a/auth'), { code: 'AUTH_FAILED', withHint: true });
    });

    it("maps Key Vault's errors by status and code, with one request each (no SDK retries)", async () => {
      fake.put('err', 'v');
      const store = make();
      await store.resolve('azure-kv:vault-a/err'); // past the challenge, so each fault below is one request
      const cases: Array<[number, string, string | undefined, ErrorCode]> = [
        [403, 'Forbidden', 'ForbiddenByRbac', 'ACCESS_DENIED'],
        [403, 'Forbidden', 'SecretDisabled', 'SECRET_NOT_FOUND'],
        [429, 'Throttled', undefined, 'THROTTLED'],
        [500, 'InternalServerError', undefined, 'SERVER_ERROR'],
        [503, 'ServiceUnavailable', undefined, 'SERVER_ERROR'],
      ];
      for (const [status, code, innerCode, expected] of cases) {
        const before = fake.requests.length;
        fake.failNext({ status, code, ...(innerCode ? { innerCode } : {}) });
        await expectFailure(store.resolve('azure-kv:vault-a/err'), { type: SecretsError, code: expected, withHint: true });
        assert.equal(fake.requests.length - before, 1, `${status} ${code}: one request`);
      }
    });

    it("keeps the SDK's challenge-domain check on by default (a localhost vault naming vault.azure.net is refused)", async () => {
      fake.put('dom', 'v');
      const error = await expectFailure(make({ clientOptions: { tlsOptions: { ca: fake.caPem } } }).resolve('azure-kv:vault-a/dom'), { code: 'INVALID_CONFIG' });
      assert.match(error.message, /another domain/);
    });

    it('verifies TLS: without the test CA the certificate is not trusted', async () => {
      await expectFailure(make({ clientOptions: { disableChallengeResourceVerification: true } }).resolve('azure-kv:vault-a/dom'), { code: 'TLS_CERT_INVALID' });
    });

    it('refuses a non-https vault URL before sending anything, and a hung vault is TIMEOUT', async () => {
      const plain = make({ vaultUrl: (vault) => `http://${vault}.example.test` });
      assert.throws(() => plain.check('azure-kv:vault-a/x'), (e: unknown) => e instanceof SecretsError && e.code === 'PLAINTEXT_NOT_ALLOWED');
      fake.put('slow', 'v');
      fake.stallNext();
      const store = make({ timeoutMs: 400 });
      const error = await expectFailure(store.resolve('azure-kv:vault-a/slow'), { code: 'TIMEOUT' });
      assert.equal(error.retryable, true);
    });

    it('checks the reference form: vault and secret names, an optional version', () => {
      const store = make();
      for (const ok of ['azure-kv:acme-vault/sftp-password', `azure-kv:abc/x/${'a1'.repeat(16)}`]) store.check(ok);
      for (const bad of ['azure-kv:acme-vault', 'azure-kv:ab/x', 'azure-kv:-vault/x', 'azure-kv:a--b/x', 'azure-kv:vault/x/y/z', 'azure-kv:vault/x/not-hex!', 'azure-kv:vault/']) {
        assert.throws(() => store.check(bad), (e: unknown) => e instanceof SecretsError && e.code === 'INVALID_CONFIG', bad);
      }
    });
  });
});
