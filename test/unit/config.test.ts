import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config';
import { ConfigError } from '../../src/domain/errors';
import { tempDir } from '../support/tmp';

function fails(env: NodeJS.ProcessEnv, pattern: RegExp): void {
  assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && pattern.test(e.message) && e.hint.length > 0);
}

describe('loadConfig', () => {
  it('has working defaults: local mode, port 3978, the local outbox', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3978);
    assert.equal(c.localMode, true);
    assert.equal(c.production, false);
    assert.equal(c.dataDir, resolve('./data'));
    assert.equal(c.sourcesDir, resolve('./data/sources'));
    assert.deepEqual(c.assignmentGroups, ['DataOps', 'DevOps', 'Infrastructure']);
    assert.equal(c.allowAdHoc, true);
    assert.equal(c.allowPlainFtp, false);
    assert.equal(c.autoLogoutSeconds, 10);
    assert.deepEqual(c.destinations, [{ name: 'Local outbox', spec: { protocol: 'local', root: resolve('./data/outbox'), folder: '/', label: 'Local outbox' } }]);
    assert.deepEqual([c.ticketing, c.store, c.notifier], [{ kind: 'local' }, { kind: 'sqlite' }, { kind: 'log' }]);
    assert.deepEqual(c.signIn, {}, 'local sign-in for every cloud');
    assert.equal(c.publicUrl, 'http://localhost:3978');
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '8080', MicrosoftAppId: 'app', MicrosoftAppPassword: 'pw', MicrosoftAppType: 'SingleTenant', MicrosoftAppTenantId: 'tid',
      FILEFERRY_DATA_DIR: '/tmp/ff', FILEFERRY_ASSIGNMENT_GROUPS: ' A , B ', FILEFERRY_ALLOW_ADHOC: 'no', FILEFERRY_ALLOW_PLAIN_FTP: 'yes',
      FILEFERRY_AUTO_LOGOUT_SECONDS: '30', FILEFERRY_PUBLIC_URL: 'https://ff.example.com/',
    });
    assert.equal(c.port, 8080);
    assert.equal(c.localMode, false);
    assert.deepEqual(c.bot, { appId: 'app', appPassword: 'pw', appType: 'SingleTenant', tenantId: 'tid' });
    assert.deepEqual(c.assignmentGroups, ['A', 'B']);
    assert.equal(c.allowAdHoc, false);
    assert.equal(c.allowPlainFtp, true);
    assert.equal(c.autoLogoutSeconds, 30);
    assert.equal(c.publicUrl, 'https://ff.example.com');
  });

  it('names the bad variable', () => {
    fails({ PORT: 'eighty' }, /PORT/);
    fails({ PORT: '70000' }, /PORT/);
    fails({ FILEFERRY_ALLOW_ADHOC: 'maybe' }, /FILEFERRY_ALLOW_ADHOC/);
    fails({ FILEFERRY_AUTO_LOGOUT_SECONDS: '0' }, /FILEFERRY_AUTO_LOGOUT_SECONDS/);
    fails({ MicrosoftAppType: 'Anything' }, /MicrosoftAppType/);
    fails({ FILEFERRY_ASSIGNMENT_GROUPS: ' , ' }, /FILEFERRY_ASSIGNMENT_GROUPS/);
    fails({ MicrosoftAppId: 'app' }, /MicrosoftAppPassword/);
  });

  it('refuses to start in production without an app ID', () => {
    fails({ NODE_ENV: 'production' }, /NODE_ENV=production.*MicrosoftAppId/);
    assert.equal(loadConfig({ NODE_ENV: 'production', MicrosoftAppId: 'a', MicrosoftAppPassword: 'p', FILEFERRY_APPROVAL_ENVIRONMENTS: '' }).production, true);
  });

  it('refuses to start in production when protected environments have nobody to approve', () => {
    const bot = { NODE_ENV: 'production', MicrosoftAppId: 'a', MicrosoftAppPassword: 'p' };
    fails(bot, /PROD requests need approval.*FILEFERRY_APPROVERS is not set/);
    fails({ ...bot, FILEFERRY_APPROVAL_ENVIRONMENTS: 'PROD,UAT' }, /PROD, UAT requests need approval/);
    assert.equal(loadConfig({ ...bot, FILEFERRY_APPROVERS: 'DataOps=00000000-0000-4000-8000-000000000001' }).approval?.via, 'teams');
    assert.equal(loadConfig({ ...bot, FILEFERRY_APPROVAL_ENVIRONMENTS: '' }).approval, undefined);
    assert.equal(loadConfig({}).approval, undefined, 'locally, no approvers means no approval step');
  });

  it('names the selector variable and lists the valid kinds for an unknown backend', () => {
    fails({ FILEFERRY_TICKETING: 'servicenow-typo' }, /FILEFERRY_TICKETING="servicenow-typo" is not a ticketing backend/);
    fails({ FILEFERRY_STORE: 'postgres' }, /FILEFERRY_STORE="postgres"/);
    fails({ FILEFERRY_NOTIFIER: 'pager' }, /FILEFERRY_NOTIFIER="pager"/);
    assert.throws(() => loadConfig({ FILEFERRY_STORE: 'postgres' }), (e: unknown) => e instanceof ConfigError && /one of: sqlite, memory, dynamodb, cosmos/.test(e.hint));
    assert.equal(loadConfig({ FILEFERRY_TICKETING: ' local ' }).ticketing.kind, 'local');
    fails({ FILEFERRY_TICKETING: 'servicenow' }, /SERVICENOW_INSTANCE_URL \(needed by FILEFERRY_TICKETING=servicenow\)/);
    fails({ FILEFERRY_STORE: 'cosmos' }, /COSMOS_ENDPOINT \(needed by FILEFERRY_STORE=cosmos\)/);
    fails({ FILEFERRY_STORE: 'cosmos', COSMOS_ENDPOINT: 'http://c.example' }, /COSMOS_ENDPOINT.*https/);
    fails({ FILEFERRY_STORE: 'dynamodb', FILEFERRY_DYNAMODB_TABLE_PREFIX: 'bad prefix!' }, /FILEFERRY_DYNAMODB_TABLE_PREFIX/);
    assert.deepEqual(loadConfig({ FILEFERRY_STORE: 'dynamodb' }).store, { kind: 'dynamodb', FILEFERRY_DYNAMODB_TABLE_PREFIX: 'FileFerry', FILEFERRY_DYNAMODB_REQUEST_TTL_DAYS: 90 });
    assert.deepEqual(loadConfig({ FILEFERRY_STORE: 'cosmos', COSMOS_ENDPOINT: 'https://c.example:443/', COSMOS_KEY_REF: 'env:K' }).store, { kind: 'cosmos', COSMOS_ENDPOINT: 'https://c.example:443/', COSMOS_DATABASE: 'fileferry', COSMOS_KEY_REF: 'env:K' });
  });

  it('turns on sign-in per cloud, and names what a half configuration lacks', () => {
    const aws = loadConfig({ FILEFERRY_AWS_SSO_START_URL: 'https://acme.awsapps.com/start', FILEFERRY_AWS_SSO_REGION: 'eu-west-1', FILEFERRY_AWS_ACCOUNT_ID: '123456789012' });
    assert.deepEqual(aws.signIn, { aws: { startUrl: 'https://acme.awsapps.com/start', ssoRegion: 'eu-west-1', accountId: '123456789012' } });
    fails({ FILEFERRY_AWS_SSO_START_URL: 'https://acme.awsapps.com/start' }, /FILEFERRY_AWS_SSO_REGION is not/);
    fails({ FILEFERRY_AWS_SSO_START_URL: 'https://x', FILEFERRY_AWS_SSO_REGION: 'eu-west-1', FILEFERRY_AWS_ACCOUNT_ID: '12' }, /FILEFERRY_AWS_ACCOUNT_ID/);
    const azure = loadConfig({ FILEFERRY_ENTRA_TENANT_ID: 't', FILEFERRY_ENTRA_CLIENT_ID: 'c', FILEFERRY_AZURE_STORAGE_ACCOUNTS: 'WestEurope=https://a1.blob.core.windows.net/, eastus=https://a2.blob.core.windows.net' });
    assert.deepEqual(azure.signIn.entra?.storageAccounts, { westeurope: 'https://a1.blob.core.windows.net', eastus: 'https://a2.blob.core.windows.net' });
    fails({ FILEFERRY_ENTRA_TENANT_ID: 't' }, /FILEFERRY_ENTRA_CLIENT_ID is not set/);
    fails({ FILEFERRY_ENTRA_TENANT_ID: 't', FILEFERRY_ENTRA_CLIENT_ID: 'c', FILEFERRY_AZURE_STORAGE_ACCOUNTS: 'westeurope=https://a1.blob.core.windows.net?sv=1' }, /FILEFERRY_AZURE_STORAGE_ACCOUNTS/);
    fails({ FILEFERRY_AUDIT_KEY_REF: 'nope' }, /FILEFERRY_AUDIT_KEY_REF/);
  });

  it('reads saved destinations into specs: pinned SFTP keys, key authentication, a private CA, secret references', async () => {
    const dir = await tempDir('config');
    try {
      const file = join(dir.path, 'destinations.json');
      const fp = 'SHA256:' + 'A'.repeat(43);
      await writeFile(file, JSON.stringify([
        { name: 'Acme', protocol: 'sftp', host: 'sftp.acme.example', username: 'ff', remoteFolder: '/in', hostKeyFingerprint: fp, passwordEnv: 'ACME_PW' },
        { name: 'Box', protocol: 'local', root: dir.path },
      ]));
      const c = loadConfig({ FILEFERRY_DESTINATIONS_FILE: file, ACME_PW: 'x' });
      assert.deepEqual(c.destinations.map((d) => d.name), ['Acme', 'Box']);
      assert.deepEqual(c.destinations[0]!.spec, {
        protocol: 'sftp', host: 'sftp.acme.example', port: 22, username: 'ff', folder: '/in', passwordRef: 'env:ACME_PW', hostKey: { fingerprint: fp }, allowRemoteHash: false,
      });
      await writeFile(file, JSON.stringify([
        { name: 'Key', protocol: 'sftp', host: 'h', username: 'u', remoteFolder: '/in', hostKeyFingerprint: fp, privateKeyRef: 'file:/etc/ff/key', passphraseRef: 'aws-sm:ff/key#passphrase', allowRemoteHash: true },
        { name: 'Ca', protocol: 'ftps', host: 'h', port: 990, username: 'u', remoteFolder: '/in', passwordRef: 'azure-kv:vault/pw', caFile: 'ca.pem' },
        { name: 'Plain', protocol: 'ftp', host: 'h', username: 'u', remoteFolder: '/in', secretRef: 'env:PW' },
      ]));
      const specs = loadConfig({ FILEFERRY_DESTINATIONS_FILE: file }).destinations.map((d) => d.spec);
      assert.deepEqual(specs, [
        { protocol: 'sftp', host: 'h', port: 22, username: 'u', folder: '/in', hostKey: { fingerprint: fp }, privateKeyRef: 'file:/etc/ff/key', passphraseRef: 'aws-sm:ff/key#passphrase', allowRemoteHash: true },
        { protocol: 'ftps', host: 'h', port: 990, username: 'u', folder: '/in', passwordRef: 'azure-kv:vault/pw', caFile: resolve('ca.pem'), allowPlainFtp: false },
        { protocol: 'ftp', host: 'h', port: 21, username: 'u', folder: '/in', passwordRef: 'env:PW', allowPlainFtp: true },
      ]);
      await writeFile(file, JSON.stringify([{ name: 'K', protocol: 'sftp', host: 'h', username: 'u', remoteFolder: '/in', hostKeyFingerprint: fp }]));
      fails({ FILEFERRY_DESTINATIONS_FILE: file }, /neither a password \(passwordRef\) nor a private key/);
      await writeFile(file, JSON.stringify([{ name: 'K', protocol: 'ftps', host: 'h', username: 'u', remoteFolder: '/in', passwordRef: 'env:X', privateKeyRef: 'env:Y' }]));
      fails({ FILEFERRY_DESTINATIONS_FILE: file }, /FTPS, which has no privateKeyRef/);
      await writeFile(file, JSON.stringify([{ name: 'K', protocol: 'ftps', host: 'h', username: 'u', remoteFolder: '/in', passwordRef: 'no scheme here' }]));
      fails({ FILEFERRY_DESTINATIONS_FILE: file }, /invalid at 0.passwordRef: is not a secret reference/);
      await writeFile(file, JSON.stringify([{ name: 'Acme', protocol: 'sftp', host: 'h', username: 'u', remoteFolder: '/in', passwordEnv: 'ACME_PW' }]));
      fails({ FILEFERRY_DESTINATIONS_FILE: file, ACME_PW: 'x' }, /no hostKeyFingerprint/);
      // A distant server's striping: SFTP only, 1 to 16.
      await writeFile(file, JSON.stringify([{ name: 'Far', protocol: 'sftp', host: 'h', username: 'u', remoteFolder: '/in', hostKeyFingerprint: fp, passwordRef: 'env:X', connections: 4 }]));
      assert.deepEqual(loadConfig({ FILEFERRY_DESTINATIONS_FILE: file }).destinations[0]!.spec, {
        protocol: 'sftp', host: 'h', port: 22, username: 'u', folder: '/in', passwordRef: 'env:X', hostKey: { fingerprint: fp }, allowRemoteHash: false, connections: 4,
      });
      await writeFile(file, JSON.stringify([{ name: 'Far', protocol: 'sftp', host: 'h', username: 'u', remoteFolder: '/in', hostKeyFingerprint: fp, passwordRef: 'env:X', connections: 17 }]));
      fails({ FILEFERRY_DESTINATIONS_FILE: file }, /invalid at 0.connections/);
      await writeFile(file, JSON.stringify([{ name: 'K', protocol: 'ftps', host: 'h', username: 'u', remoteFolder: '/in', passwordRef: 'env:X', connections: 4 }]));
      fails({ FILEFERRY_DESTINATIONS_FILE: file }, /FTPS, which has no connections/);
      await writeFile(file, JSON.stringify([{ name: 'A', protocol: 'gopher' }]));
      fails({ FILEFERRY_DESTINATIONS_FILE: file }, /FILEFERRY_DESTINATIONS_FILE.*invalid/);
      await writeFile(file, '{not json');
      fails({ FILEFERRY_DESTINATIONS_FILE: file }, /FILEFERRY_DESTINATIONS_FILE.*JSON/);
    } finally {
      await dir.remove();
    }
  });
});
