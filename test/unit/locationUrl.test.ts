import { strict as assert } from 'node:assert';
import { parseLocation, redactUrl } from '../../src/cli/locationUrl';
import { FerryError } from '../../src/domain/errors';

function refused(url: string, code: string): void {
  assert.throws(() => parseLocation(url), (e: unknown) => e instanceof FerryError && e.code === code, url);
}

describe('locationUrl', () => {
  it('parses object-store URLs', () => {
    assert.deepEqual(parseLocation('s3://bucket/dir/key.csv'), { kind: 's3', bucket: 'bucket', key: 'dir/key.csv' });
    assert.deepEqual(parseLocation('azblob://c/my%20blob.txt'), { kind: 'azblob', container: 'c', key: 'my blob.txt' });
    assert.deepEqual(parseLocation('file:///tmp/x/y.bin'), { kind: 'file', path: '/tmp/x/y.bin' });
  });

  it('parses server URLs with default and explicit ports, absolute paths and /~/', () => {
    assert.deepEqual(parseLocation('sftp://u@h:2222/home/u/in/a.csv'), {
      kind: 'sftp', host: 'h', port: 2222, username: 'u', path: '/home/u/in/a.csv', fromHome: false, isFolder: false,
    });
    assert.equal((parseLocation('ftps://u@h/in/') as { port: number }).port, 21);
    assert.equal((parseLocation('sftp://u@h/x') as { port: number }).port, 22);
    const home = parseLocation('sftp://u@h/~/in/a.csv') as { path: string; fromHome: boolean };
    assert.deepEqual([home.path, home.fromHome], ['/in/a.csv', true]);
    assert.equal((parseLocation('sftp://u@[::1]:22/a') as { host: string }).host, '::1');
  });

  it('decodes percent-escapes before checking, so escaped traversal and CR/LF are refused', () => {
    refused('sftp://u@h/in/%2e%2e/etc/passwd', 'INVALID_PATH');
    refused('ftp://u@h/in/a%0d%0aDELE%20x', 'INVALID_PATH');
    refused('ftp://u@h/in/a%00', 'INVALID_PATH');
    refused('s3://b/a/%2e%2e/k', 'INVALID_URL');
    refused('sftp://u@h/bad%zz', 'INVALID_URL');
  });

  it('refuses passwords in URLs without echoing them', () => {
    assert.throws(
      () => parseLocation('sftp://u:hunter2@h/a'),
      (e: unknown) => e instanceof FerryError && e.code === 'INVALID_URL' && !e.message.includes('hunter2'),
    );
    assert.equal(redactUrl('ftp://u:secret@h/a'), 'ftp://u:***@h/a');
  });

  it('refuses unknown schemes, missing users and bad ports', () => {
    refused('http://h/a', 'INVALID_URL');
    refused('sftp://h/a', 'INVALID_URL');
    refused('sftp://u@h:70000/a', 'INVALID_URL');
    refused('not a url', 'INVALID_URL');
  });
});
