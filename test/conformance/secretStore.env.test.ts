import { strict as assert } from 'node:assert';
import { EnvSecrets } from '../../src/adapters/secrets/envSecrets';
import { SecretsError } from '../../src/domain/errors';
import { expectFailure } from '../support/expectFailure';
import { secretStoreConformance } from './secretStoreSuite';

describe('EnvSecrets', () => {
  // A private environment object: the suite's canaries never reach process.env or a child process.
  const env: NodeJS.ProcessEnv = {};

  secretStoreConformance('env', async () => ({
    store: new EnvSecrets(env),
    put: async (name, value) => {
      const variable = name.replace(/-/g, '_').toUpperCase();
      env[variable] = value;
      return `env:${variable}`;
    },
    missingRef: 'env:FILEFERRY_TEST_NEVER_SET',
    malformedRef: 'env:1-not a name',
    cleanup: async () => {
      for (const key of Object.keys(env)) delete env[key];
    },
  }));

  it('an empty variable counts as unset, and the error says which variable to set', async () => {
    const store = new EnvSecrets({ ACME_PASSWORD: '' });
    const error = await expectFailure(store.resolve('env:ACME_PASSWORD'), { type: SecretsError, code: 'SECRET_NOT_FOUND', withHint: true });
    assert.match(error.message, /"env:ACME_PASSWORD".*ACME_PASSWORD, which is empty/);
    assert.match(error.hint, /Set ACME_PASSWORD/);
  });

  it('reads process.env by default, at each resolve', async () => {
    const store = new EnvSecrets();
    const name = 'FILEFERRY_TEST_ENV_SECRET';
    process.env[name] = 'first';
    try {
      assert.equal(await store.resolve(`env:${name}`), 'first');
      process.env[name] = 'second';
      assert.equal(await store.resolve(`env:${name}`), 'second');
    } finally {
      delete process.env[name];
    }
  });

  it('accepts only shell-style names', () => {
    const store = new EnvSecrets({});
    for (const ok of ['env:A', 'env:_X', 'env:ACME_SFTP_PASSWORD_2']) store.check(ok);
    for (const bad of ['env:', 'env:2FA', 'env:A-B', 'env:A B', 'env:A=B', 'env:ÄRGER']) {
      assert.throws(() => store.check(bad), (e: unknown) => e instanceof SecretsError && e.code === 'INVALID_CONFIG', bad);
    }
  });
});
