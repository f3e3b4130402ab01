import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderTemplate } from '../../src/push/folderTemplate';
import { matchObject } from '../../src/push/objectMatch';
import { loadPushRules, parsePushRules } from '../../src/push/pushRules';
import { nextOpening, windowOpen } from '../../src/push/sendWindow';
import { tempDir } from '../support/tmp';

const GOOD_YAML = `
settings:
  maxInFlight: 4
rules:
  - name: partner-a
    source: s3://outbound/partner-a/
    match: { extensions: [".csv", ".TXT"], maxSize: 1000 }
    destination: { name: Acme SFTP, folder: "/in/{yyyy}/{MM}/{name}", overwrite: replace }
    stability: 10
    window: { from: "20:00", to: "06:00", days: [mon, tue] }
    expect: { by: "06:00" }
    triggers: { sqs: { queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/outbound" }, poll: { seconds: 60 } }
  - name: local-drop
    source: file:///srv/drop/
    match: { glob: "**/*.xml" }
    destination: { name: Acme SFTP }
    triggers: { poll: { seconds: 5 } }
    engine: fileferry
    notify: each
`;

function error(text: string, file = 'rules.yaml', names?: string[]): string {
  try {
    parsePushRules(text, file, names);
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail('expected the rules to be refused');
}

const rule = (extra: Record<string, unknown>): string =>
  JSON.stringify([{ name: 'partner-a', source: 's3://outbound/a/', destination: { name: 'Acme SFTP' }, triggers: { poll: { seconds: 5 } }, ...extra }]);

describe('push rules', () => {
  it('reads a good YAML file with defaults filled in', () => {
    const set = parsePushRules(GOOD_YAML, 'rules.yaml', ['Acme SFTP']);
    assert.equal(set.settings.maxInFlight, 4);
    assert.equal(set.settings.leaseSeconds, 120);
    const [a, b] = set.rules;
    assert.deepEqual(a!.place, { scheme: 's3', container: 'outbound', prefix: 'partner-a/' });
    assert.equal(a!.retries, 3);
    assert.equal(a!.engine, 'fileferry');
    assert.equal(a!.notify, 'failures');
    assert.deepEqual(a!.expect, { atLeast: 1, by: '06:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] });
    assert.equal(a!.destination.overwrite, 'replace');
    assert.deepEqual(b!.place, { scheme: 'file', container: 'drop', prefix: '', root: '/srv' });
    assert.equal(b!.stability, 30);
    assert.equal(b!.notify, 'each');
  });

  it('reads JSON, a bare list of rules, and the PGP key file', async () => {
    const dir = await tempDir('rules');
    try {
      await writeFile(join(dir.path, 'key.asc'), '-----BEGIN PGP PUBLIC KEY BLOCK-----\n…');
      await writeFile(join(dir.path, 'rules.json'), rule({ pgp: { publicKeyFile: join(dir.path, 'key.asc') } }));
      const set = loadPushRules(join(dir.path, 'rules.json'));
      assert.match(set.rules[0]!.pgp!.publicKey, /BEGIN PGP PUBLIC KEY/);
      assert.equal(set.settings.maxInFlight, 8);
    } finally {
      await dir.remove();
    }
  });

  it('names the rule and the field of every mistake', () => {
    assert.equal(error(rule({ destination: { name: 'Acme SFTP', folder: 'in/{name}' } }), 'r.json'), 'push rule "partner-a": destination.folder: must be an absolute path on the server, starting with /.');
    assert.match(error(rule({ destination: { name: 'Acme SFTP', folder: '/in/{yyyy}/{nme}' } }), 'r.json'), /^push rule "partner-a": destination\.folder: unknown placeholder \{nme\}/);
    assert.match(error(rule({ destination: { name: 'Acme SFTP', folder: '/in/fixed.csv' } }), 'r.json'), /destination\.folder: must contain \{name\}/);
    assert.match(error(rule({ source: 'gs://bucket/' }), 'r.json'), /^push rule "partner-a": source: "gs:\/\/bucket\/" is not s3:\/\//);
    assert.match(error(rule({ source: 'file:///srv/drop/', triggers: { sqs: { queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q' } } }), 'r.json'), /push rule "partner-a": triggers: S3 event triggers/);
    assert.match(error(rule({ triggers: {} }), 'r.json'), /push rule "partner-a": triggers: name at least one trigger/);
    assert.match(error(rule({ engine: 'transfer-family' }), 'r.json'), /push rule "partner-a": connectorId: engine transfer-family needs the connector ID/);
    assert.match(error(rule({ window: { from: '25:00', to: '06:00' } }), 'r.json'), /push rule "partner-a": window\.from: must be a UTC time HH:MM/);
    assert.match(error(rule({ notify: 'sometimes' }), 'r.json'), /push rule "partner-a": notify:/);
    assert.match(error(rule({ colour: 'red' }), 'r.json'), /push rule "partner-a": \(rule\): Unrecognized key/i);
    assert.match(error(rule({ pgp: { publicKeyFile: '/nonexistent/key.asc' } }), 'r.json'), /push rule "partner-a": pgp\.publicKeyFile: \/nonexistent\/key\.asc cannot be read \(ENOENT\)/);
    assert.match(error(rule({}), 'r.json', ['Other']), /push rule "partner-a": destination\.name: no saved destination is called "Acme SFTP"/);
    assert.match(error('[{"source": "s3://b/"}]', 'r.json'), /^push rule #1: name:/);
    const twice = JSON.stringify([JSON.parse(rule({}))[0], JSON.parse(rule({}))[0]]);
    assert.match(error(twice, 'r.json'), /push rule "partner-a": name: is used by another rule/);
    assert.match(error('rules: [ {', 'r.yaml'), /FILEFERRY_PUSH_RULES_FILE \(r\.yaml\) is not valid YAML/);
    assert.match(error('{"settings": {"maxInFlight": 0}, "rules": []}', 'r.json'), /settings\.maxInFlight/);
    assert.throws(() => loadPushRules('/nonexistent/rules.yaml'), /FILEFERRY_PUSH_RULES_FILE \(\/nonexistent\/rules\.yaml\) cannot be read \(ENOENT\)/);
  });

  it('matches by glob, extension and size', () => {
    assert.deepEqual(matchObject({ glob: '*.csv' }, 'a.csv', 1), { ok: true });
    assert.equal(matchObject({ glob: '*.csv' }, 'sub/a.csv', 1).ok, false);
    assert.equal(matchObject({ glob: '**/*.csv' }, 'sub/deeper/a.csv', 1).ok, true);
    assert.equal(matchObject({ glob: '**/*.csv' }, 'a.csv', 1).ok, true);
    assert.equal(matchObject({ extensions: ['.CSV'] }, 'x/report.csv', 1).ok, true);
    assert.equal(matchObject({ extensions: ['.csv'] }, 'report.exe', 1).ok, false);
    assert.equal(matchObject({ maxSize: 10 }, 'a', 11).ok, false);
    assert.equal(matchObject({}, 'folder/', 0).ok, false);
  });

  it('renders the folder template from the first-seen time (UTC)', () => {
    const at = new Date('2031-03-04T05:06:07Z');
    assert.equal(renderTemplate('/in/{yyyy}/{MM}/{dd}/{name}', { relativeKey: 'x/red flower.jpg', rule: 'r', seenAt: at }), '/in/2031/03/04/red flower.jpg');
    assert.equal(renderTemplate('/{rule}/{stem}-{HH}{mm}{ext}', { relativeKey: 'a.tar.gz', rule: 'r', seenAt: at }), '/r/a.tar-0506.gz');
  });

  it('opens and closes the send window, over midnight too', () => {
    const w = { from: '20:00', to: '06:00', days: ['mon' as const] };
    assert.equal(windowOpen(w, new Date('2031-03-03T21:00:00Z')), true); // Monday evening
    assert.equal(windowOpen(w, new Date('2031-03-04T05:59:00Z')), true); // the night after Monday
    assert.equal(windowOpen(w, new Date('2031-03-04T06:00:00Z')), false);
    assert.equal(windowOpen(w, new Date('2031-03-04T21:00:00Z')), false); // Tuesday
    assert.equal(nextOpening(w, new Date('2031-03-04T06:00:00Z')).toISOString(), '2031-03-10T20:00:00.000Z');
  });
});
