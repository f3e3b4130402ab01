import assert from 'node:assert/strict';
import { BotHarness, type ChatUser } from '../support/botHarness';
import { actionsOf, fieldErrors, inputValues } from '../support/cardQuery';
import { seedSources } from '../support/sampleSources';

const GOOD = { environment: 'QA', cloud: 'AWS', region: 'eu-west-1', container: '', key: '', assignmentGroup: 'DataOps', priority: '3', justification: 'Needed for the quarterly audit.' };

describe('e2e: every request-form and destination-form validation error, values kept', () => {
  let harness: BotHarness;

  before(async () => {
    harness = await BotHarness.start({ seed: (dir) => seedSources(dir).then(() => undefined) });
  });
  after(async () => harness?.close());

  async function newForm(user: ChatUser): Promise<void> {
    await user.say('transfer');
    await user.waitForAction('request.submit');
  }

  async function submit(user: ChatUser, inputs: Record<string, string>) {
    const res = await user.click('request.submit', { inputs });
    assert.equal(res.status, 200);
    return res.body!.value!;
  }

  it('flags each bad field with its own message and keeps what was typed', async () => {
    const user = harness.user();
    await newForm(user);
    const typed = { environment: 'STAGING', cloud: 'AWS', region: 'westeurope', container: 'Bad_Bucket!', key: '../etc/passwd', assignmentGroup: 'Nobody', priority: '9', justification: 'short' };
    const card = await submit(user, typed);
    const errors = fieldErrors(card);
    assert.deepEqual(Object.keys(errors).sort(), ['assignmentGroup', 'container', 'environment', 'justification', 'key', 'priority', 'region']);
    assert.match(errors.environment!, /PROD, QA, UAT, DEV/);
    assert.match(errors.region!, /"westeurope" is not one of the AWS regions/);
    assert.match(errors.container!, /bucket name/i);
    assert.match(errors.key!, /"\." or "\.\."/);
    assert.match(errors.assignmentGroup!, /DataOps, DevOps, Infrastructure/);
    assert.match(errors.priority!, /1 \(critical\) to 4 \(low\)/);
    assert.match(errors.justification!, /at least 10 characters/);
    const kept = inputValues(card);
    for (const [field, value] of Object.entries(typed)) assert.equal(kept[field], value, `${field} keeps what was typed`);
    assert.ok(actionsOf(card).some((a) => a.verb === 'request.submit'), 'the same form comes back, still submittable');
  });

  it('flags missing required fields', async () => {
    const user = harness.user();
    await newForm(user);
    const card = await submit(user, { environment: '', cloud: '', region: '', container: '', key: '', assignmentGroup: '', priority: '', justification: '' });
    assert.deepEqual(Object.keys(fieldErrors(card)).sort(), ['assignmentGroup', 'cloud', 'environment', 'justification', 'priority', 'region']);
  });

  it('checks Azure container names, control characters and the justification length', async () => {
    const user = harness.user();
    await newForm(user);
    const card = await submit(user, { ...GOOD, cloud: 'Azure', region: 'westeurope', container: 'my--container', key: 'reports/a\u0007b.csv', justification: 'x'.repeat(1001) });
    const errors = fieldErrors(card);
    assert.deepEqual(Object.keys(errors).sort(), ['container', 'justification', 'key']);
    assert.match(errors.container!, /container name/);
    assert.match(errors.key!, /control characters/);
    assert.match(errors.justification!, /under 1000 characters/);
  });

  it('accepts the corrected form on the same request', async () => {
    const user = harness.user();
    await newForm(user);
    await submit(user, { ...GOOD, environment: 'nope' });
    const card = await submit(user, GOOD);
    assert.deepEqual(fieldErrors(card), {});
    assert.ok(!actionsOf(card).some((a) => a.verb === 'request.submit'), 'the form became the tickets card');
    await user.waitForAction('signin.continue');
  });

  it('flags each bad destination field, never echoes the password, and refuses plain FTP by policy', async () => {
    const user = harness.user();
    await newForm(user);
    await submit(user, GOOD);
    await user.waitForAction('signin.continue');
    await user.click('signin.continue');
    await user.click('bucket.pick', { match: { container: 'other-bucket' } });
    await user.click('file.pick', { match: { objectKey: 'readme.txt' } });

    const typed = { savedDestination: 'adhoc', protocol: 'ftp', host: 'bad host!', port: '70000', username: 'us er', password: '', remoteFolder: 'relative/folder', overwrite: 'sometimes' };
    let res = await user.click('dest.submit', { inputs: typed });
    let errors = fieldErrors(res.body!.value);
    assert.deepEqual(Object.keys(errors).sort(), ['host', 'overwrite', 'password', 'port', 'protocol', 'remoteFolder', 'username']);
    assert.match(errors.protocol!, /turned off by policy/);
    assert.match(errors.port!, /1 to 65535/);
    assert.match(errors.remoteFolder!, /not absolute/);
    const kept = inputValues(res.body!.value);
    for (const field of ['host', 'port', 'username', 'remoteFolder']) assert.equal(kept[field], typed[field as keyof typeof typed]);

    res = await user.click('dest.submit', { inputs: { ...typed, protocol: 'sftp', host: 'sftp.example.com', port: '', username: 'bob', password: 'S3cret-typed-here', remoteFolder: '/in/../etc', overwrite: 'fail' } });
    errors = fieldErrors(res.body!.value);
    assert.deepEqual(Object.keys(errors), ['remoteFolder']);
    assert.match(errors.remoteFolder!, /"\.\."/);
    assert.ok(!JSON.stringify(res.body).includes('S3cret-typed-here'), 'the password is not on the card');
    assert.equal(inputValues(res.body!.value).password ?? '', '');

    res = await user.click('dest.submit', { inputs: { savedDestination: 'No such place' } });
    assert.match(fieldErrors(res.body!.value).savedDestination!, /saved destinations/);
    assert.ok(!harness.logLines.join('\n').includes('S3cret-typed-here'), 'the password is not in the logs');
  });
});
