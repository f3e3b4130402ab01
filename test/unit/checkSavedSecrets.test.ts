import assert from 'node:assert/strict';
import { buildSecrets } from '../../src/adapters/registry';
import { checkSavedSecrets } from '../../src/checkSavedSecrets';
import { ConfigError } from '../../src/domain/errors';
import type { SavedDestination } from '../../src/domain/savedDestination';

const fp = 'SHA256:' + 'A'.repeat(43);
const sftp = (refs: { passwordRef?: string; privateKeyRef?: string; passphraseRef?: string }): SavedDestination => ({
  name: 'Acme',
  spec: { protocol: 'sftp', host: 'h', port: 22, username: 'u', folder: '/in', hostKey: { fingerprint: fp }, ...refs },
});

describe('checkSavedSecrets (start-up)', () => {
  it('passes when every env: and file: reference exists, and never fetches a cloud one', async () => {
    const secrets = buildSecrets({ env: { ACME_PW: 'canary-start-up-value' } });
    await checkSavedSecrets([sftp({ passwordRef: 'env:ACME_PW', passphraseRef: 'aws-sm:prod/acme#passphrase' })], secrets);
  });

  it('stops start-up naming the destination and the reference, never the value', async () => {
    const secrets = buildSecrets({ env: { OTHER: 'canary-other-value' } });
    await assert.rejects(checkSavedSecrets([sftp({ passwordRef: 'env:ACME_PW' })], secrets), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /FILEFERRY_DESTINATIONS_FILE: the destination "Acme".*env:ACME_PW.*ACME_PW, which is not set/);
      assert.ok(!`${e.message} ${e.hint}`.includes('canary'), 'no secret value in the message');
      return true;
    });
    await assert.rejects(checkSavedSecrets([sftp({ privateKeyRef: 'file:/nonexistent/fileferry/key' })], secrets), /the destination "Acme".*file:\/nonexistent\/fileferry\/key/);
    await assert.rejects(checkSavedSecrets([sftp({ passwordRef: 'vault:acme' })], secrets), (e: unknown) => e instanceof ConfigError && /vault:acme/.test(e.message) && /env/.test(`${e.message} ${e.hint}`));
    await assert.rejects(checkSavedSecrets([sftp({ passwordRef: 'aws-sm:' })], secrets), (e: unknown) => e instanceof ConfigError && /aws-sm/.test(e.message));
  });

  it('skips local destinations, which have no secrets', async () => {
    await checkSavedSecrets([{ name: 'Box', spec: { protocol: 'local', root: '/tmp', folder: '/' } }], buildSecrets({ env: {} }));
  });
});
