import { strict as assert } from 'node:assert';
import { checkFileName, checkRemotePath, temporaryPathFor, withSuffix } from '../../src/transfer/remotePath';
import { FerryError } from '../../src/domain/errors';

function refused(fn: () => unknown, fragment: string): void {
  assert.throws(fn, (e: unknown) => e instanceof FerryError && e.code === 'INVALID_PATH' && e.message.includes(fragment) && e.hint.length > 0);
}

describe('remotePath', () => {
  it('normalises duplicate slashes, "." segments and a trailing slash', () => {
    assert.equal(checkRemotePath('//upload/./in//a.csv'), '/upload/in/a.csv');
    assert.equal(checkRemotePath('/upload/'), '/upload');
    assert.equal(checkRemotePath('/'), '/');
  });

  it('refuses "..", CR, LF, NUL and other control characters, naming the input', () => {
    refused(() => checkRemotePath('/a/../etc/passwd', 'remote folder'), 'remote folder "/a/../etc/passwd" contains ".."');
    refused(() => checkRemotePath('/a/..'), '".."');
    refused(() => checkRemotePath('/a\r\nDELE /x'), 'control character');
    refused(() => checkRemotePath('/a\nb'), 'control character');
    refused(() => checkRemotePath('/a\u0000b'), 'control character');
    refused(() => checkRemotePath('/a\u007fb'), 'control character');
  });

  it('refuses relative and empty paths', () => {
    refused(() => checkRemotePath('upload/a.csv'), 'not absolute');
    refused(() => checkRemotePath(''), 'empty');
  });

  it('keeps unicode and spaces', () => {
    assert.equal(checkRemotePath('/reçu/rapport final ✓.csv'), '/reçu/rapport final ✓.csv');
    assert.equal(checkFileName('rapport final.csv'), 'rapport final.csv');
    refused(() => checkFileName('a/b'), '"/"');
  });

  it('puts the temporary file beside the final one, hidden and unique', () => {
    assert.equal(temporaryPathFor('/in/a.csv', 'abcd'), '/in/.a.csv.abcd.fileferry-part');
    assert.notEqual(temporaryPathFor('/a'), temporaryPathFor('/a'));
  });

  it('numbers a taken name before its extension', () => {
    assert.equal(withSuffix('/in/report.csv', 2), '/in/report (2).csv');
    assert.equal(withSuffix('/in/README', 1), '/in/README (1)');
    assert.equal(withSuffix('/in/.env', 1), '/in/.env (1)');
  });
});
