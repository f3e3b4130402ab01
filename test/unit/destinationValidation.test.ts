import assert from 'node:assert/strict';
import { validateDestinationForm } from '../../src/workflow/destinationValidation';

const adhoc = { savedDestination: 'adhoc', protocol: 'ftp', host: 'ftp.example.com', port: '', username: 'bob', password: 'pw', remoteFolder: '/in', overwrite: 'fail' };

describe('validateDestinationForm', () => {
  it('needs both the policy and the user consent for plain FTP', () => {
    const off = validateDestinationForm(adhoc, { savedNames: [], allowAdHoc: true, allowPlainFtp: false });
    assert.ok(!off.ok && /turned off by policy/.test(off.errors.protocol!));
    const noConsent = validateDestinationForm(adhoc, { savedNames: [], allowAdHoc: true, allowPlainFtp: true });
    assert.ok(!noConsent.ok && /tick the box/.test(noConsent.errors.plainFtpConsent!));
    const ok = validateDestinationForm({ ...adhoc, plainFtpConsent: 'true' }, { savedNames: [], allowAdHoc: true, allowPlainFtp: true });
    assert.ok(ok.ok);
    assert.deepEqual(ok.destination.choice, { kind: 'adhoc', protocol: 'ftp', host: 'ftp.example.com', port: 21, username: 'bob', remoteFolder: '/in' });
  });

  it('defaults the port by protocol and refuses ad hoc when policy says so', () => {
    const sftp = validateDestinationForm({ ...adhoc, protocol: 'sftp' }, { savedNames: [], allowAdHoc: true, allowPlainFtp: false });
    assert.ok(sftp.ok && sftp.destination.choice.kind === 'adhoc' && sftp.destination.choice.port === 22);
    const refused = validateDestinationForm({ ...adhoc, protocol: 'sftp' }, { savedNames: ['Box'], allowAdHoc: false, allowPlainFtp: false });
    assert.ok(!refused.ok && /choose a saved destination/.test(refused.errors.savedDestination!));
    const saved = validateDestinationForm({ savedDestination: 'Box', overwrite: 'replace' }, { savedNames: ['Box'], allowAdHoc: false, allowPlainFtp: false });
    assert.ok(saved.ok && saved.destination.choice.kind === 'saved' && saved.destination.overwrite === 'replace');
  });

  it('treats forged non-string inputs as empty', () => {
    const r = validateDestinationForm({ savedDestination: 'adhoc', protocol: ['sftp'], host: { a: 1 }, password: 42 }, { savedNames: [], allowAdHoc: true, allowPlainFtp: false });
    assert.ok(!r.ok);
    assert.deepEqual(Object.keys(r.errors).sort(), ['host', 'password', 'protocol', 'remoteFolder', 'username']);
  });
});
