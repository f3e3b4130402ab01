import { strict as assert } from 'node:assert';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsSecretsManagerSecrets } from '../../src/adapters/secrets/awsSecretsManagerSecrets';
import { SecretsError, type ErrorCode } from '../../src/domain/errors';
import { expectFailure } from '../support/expectFailure';
import { FakeSecretsManager } from '../support/fakeSecretsManager';
import { freePort } from '../support/ports';
import { canary, errorTexts, secretStoreConformance } from './secretStoreSuite';

const CREDS = { accessKeyId: 'AKIAFILEFERRYTEST01', secretAccessKey: 'fileferry-test-secret-access-key' };
const REGION = 'eu-west-3';

/** Sets (or, for undefined, removes) process.env entries and returns how to put them back. */
function setEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>): void => {
    for (const [k, value] of Object.entries(v)) {
      if (value === undefined) delete process.env[k];
      else process.env[k] = value;
    }
  };
  apply(vars);
  return () => apply(saved);
}

describe('AwsSecretsManagerSecrets', () => {
  let fake: FakeSecretsManager;
  let restoreEnv: () => void;

  before(async () => {
    fake = await FakeSecretsManager.start({ region: REGION, ...CREDS });
    // The default client finds everything the way it would in production: the SDK's own chain.
    restoreEnv = setEnv({
      AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.endpoint,
      AWS_ENDPOINT_URL: undefined,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: undefined,
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: '/nonexistent/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    });
  });
  after(async () => {
    restoreEnv();
    await fake.close();
  });

  secretStoreConformance('aws-sm (default client, AWS_ENDPOINT_URL_SECRETS_MANAGER)', async () => ({
    store: new AwsSecretsManagerSecrets(),
    put: async (name, value) => (fake.put(name, value), `aws-sm:${name}`),
    missingRef: 'aws-sm:prod/never-created',
    malformedRef: 'aws-sm:has spaces#',
    stallNext: () => fake.stallNext(),
    cleanup: async () => undefined,
  }), { stalls: true });

  secretStoreConformance('aws-sm (explicit client, by ARN)', async () => {
    const client = new SecretsManagerClient({ region: REGION, endpoint: fake.endpoint, credentials: CREDS, maxAttempts: 1 });
    return {
      store: new AwsSecretsManagerSecrets({ client }),
      put: async (name, value) => `aws-sm:${fake.put(name, value)}`,
      missingRef: `aws-sm:arn:aws:secretsmanager:${REGION}:123456789012:secret:missing-AbCdEf`,
      malformedRef: 'aws-sm:',
      stallNext: () => fake.stallNext(),
      cleanup: async () => client.destroy(),
    };
  }, { stalls: true });

  describe('specific to Secrets Manager', () => {
    const store = new AwsSecretsManagerSecrets();
    const fails = (ref: string, code: ErrorCode): Promise<SecretsError> => expectFailure(store.resolve(ref), { type: SecretsError, code, withHint: true });

    it('#key returns one top-level key of a JSON secret, and names the key, never the value, when it is missing', async () => {
      const { value, token } = canary();
      fake.put('db/acme', JSON.stringify({ username: 'ferry', password: value, port: 2222 }));
      assert.equal(await store.resolve('aws-sm:db/acme#password'), value);
      assert.equal(await store.resolve('aws-sm:db/acme#port'), '2222');
      const error = await fails('aws-sm:db/acme#Password', 'SECRET_NOT_FOUND');
      assert.match(error.message, /"aws-sm:db\/acme#Password" has no top-level key "Password"/);
      assert.ok(!errorTexts(error).includes(token));
    });

    it('#key on a secret that is not JSON is SECRET_NOT_FOUND, without quoting the text', async () => {
      const { value, token } = canary();
      fake.put('plain/acme', value);
      const error = await fails('aws-sm:plain/acme#password', 'SECRET_NOT_FOUND');
      assert.match(error.message, /is not a JSON object, so it has no key "password"/);
      assert.ok(!errorTexts(error).includes(token), errorTexts(error));
    });

    it('reads SecretBinary as UTF-8, with and without #key', async () => {
      fake.put('bin/acme', Buffer.from('{"key":"bïnary ✓"}', 'utf8'));
      assert.equal(await store.resolve('aws-sm:bin/acme'), '{"key":"bïnary ✓"}');
      assert.equal(await store.resolve('aws-sm:bin/acme#key'), 'bïnary ✓');
    });

    it("maps AWS's errors by name, with one request each (no SDK retries underneath)", async () => {
      fake.put('err/acme', 'x');
      const cases: Array<[number, string, ErrorCode]> = [
        [400, 'AccessDeniedException', 'ACCESS_DENIED'],
        [400, 'ExpiredTokenException', 'AUTH_FAILED'],
        [400, 'ThrottlingException', 'THROTTLED'],
        [500, 'InternalServiceError', 'SERVER_ERROR'],
        [400, 'InvalidRequestException', 'SECRET_NOT_FOUND'],
      ];
      for (const [status, type, code] of cases) {
        const before = fake.requests.length;
        fake.failNext({ status, type, message: `${type} from the fake` });
        const error = await fails('aws-sm:err/acme', code);
        assert.match(error.message, new RegExp(type));
        assert.equal(fake.requests.length - before, 1, `${type}: one request`);
      }
    });

    it('unknown or wrongly signed credentials are AUTH_FAILED (the fake verifies the SigV4 signature)', async () => {
      for (const [credentials, type] of [
        [{ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: CREDS.secretAccessKey }, 'UnrecognizedClientException'],
        [{ accessKeyId: CREDS.accessKeyId, secretAccessKey: 'not-the-secret-key' }, 'InvalidSignatureException'],
      ] as const) {
        const client = new SecretsManagerClient({ region: REGION, endpoint: fake.endpoint, credentials, maxAttempts: 1 });
        try {
          const error = await expectFailure(new AwsSecretsManagerSecrets({ client }).resolve('aws-sm:err/acme'), { code: 'AUTH_FAILED' });
          assert.match(error.message, new RegExp(type));
        } finally {
          client.destroy();
        }
      }
    });

    it('a hung endpoint is TIMEOUT after timeoutMs, and retryable', async () => {
      fake.put('slow/acme', 'x');
      fake.stallNext();
      const error = await expectFailure(new AwsSecretsManagerSecrets({ timeoutMs: 300 }).resolve('aws-sm:slow/acme'), { code: 'TIMEOUT' });
      assert.equal(error.retryable, true);
    });

    it('the default client signs with the env credentials and also honours plain AWS_ENDPOINT_URL', async () => {
      fake.put('generic/acme', 'via AWS_ENDPOINT_URL');
      const restore = setEnv({ AWS_ENDPOINT_URL_SECRETS_MANAGER: undefined, AWS_ENDPOINT_URL: fake.endpoint });
      try {
        const before = fake.requests.length;
        assert.equal(await new AwsSecretsManagerSecrets().resolve('aws-sm:generic/acme'), 'via AWS_ENDPOINT_URL');
        assert.deepEqual(fake.requests.slice(before), [{ target: 'secretsmanager.GetSecretValue', secretId: 'generic/acme', accessKeyId: CREDS.accessKeyId }]);
      } finally {
        restore();
      }
    });

    it('a closed port is NETWORK, and retryable', async () => {
      const restore = setEnv({ AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${await freePort()}` });
      try {
        const error = await expectFailure(new AwsSecretsManagerSecrets().resolve('aws-sm:x'), { code: 'NETWORK' });
        assert.equal(error.retryable, true);
      } finally {
        restore();
      }
    });
  });
});
