import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as AdaptiveCards from 'adaptivecards';
import type { CardData, CardName } from '../../src/ui/cardModels';
import { readCardAction } from '../../src/ui/cardAction';
import { humanBytes, humanDate, humanDuration, humanRate } from '../../src/ui/format';
import { CARD_NAMES, expandCard, renderCard } from '../../src/ui/renderCard';
import { isVerb } from '../../src/ui/verbs';
import { escapeMarkdown, unescapeMarkdown } from '../../src/domain/markdownText';

// The package's "main" is an ES-module build with extension-less imports that Node cannot load;
// its UMD bundle parses and validates cards without a DOM (rendering is never called here).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AC: typeof AdaptiveCards = require('adaptivecards/dist/adaptivecards.js');

type Json = Record<string, unknown>;
type Fixture = { [K in CardName]: { name: K; label: string; data: CardData[K] } }[CardName];

const REQ = 'REQ-20240501-7F3K';
const userTicket = { number: 'RITM0010042', url: 'https://example.service-now.com/nav_to.do?uri=sc_req_item.do%3Fsys_id%3D1' };
const auditTicket = { number: 'SCTASK0020017', url: 'https://example.service-now.com/nav_to.do?uri=sc_task.do%3Fsys_id%3D2' };
const choice = (...values: string[]) => values.map((v) => ({ title: v, value: v }));

const requestValues = {
  environment: 'PROD', cloud: 'AWS', region: 'eu-west-1', container: 'finance-exports', key: '2024/05/ledger.csv',
  assignmentGroup: 'Data Platform', priority: '3', justification: 'Customer audit asked for the May ledger.',
};
const requestChoices = {
  environments: choice('PROD', 'QA', 'UAT', 'DEV'),
  clouds: [{ title: 'AWS', value: 'AWS' }, { title: 'Azure', value: 'Azure' }],
  regions: choice('eu-west-1', 'eu-central-1', 'us-east-1'),
  assignmentGroups: choice('Data Platform', 'Finance IT'),
  priorities: [{ title: '1 - Critical', value: '1' }, { title: '3 - Moderate', value: '3' }],
};
const destValues = {
  savedDestination: '', protocol: 'sftp', host: 'sftp.customer.example', port: '22', username: 'acme',
  remoteFolder: '/upload/in', overwrite: 'fail',
};

/** Representative data for every card, with the optional parts present and absent. */
const FIXTURES: Fixture[] = [
  { name: 'welcome', label: 'default', data: { userName: 'Ada Lovelace' } },
  {
    name: 'help', label: 'default',
    data: { commands: [{ command: 'transfer', description: 'Start a new request' }, { command: 'status [id]', description: 'Where a request is' }] },
  },
  { name: 'requestForm', label: 'empty draft', data: { values: { ...requestValues, container: '', key: '', justification: '' }, errors: {}, choices: requestChoices } },
  {
    name: 'requestForm', label: 'every field in error, values kept',
    data: {
      requestId: REQ,
      values: requestValues,
      errors: {
        environment: 'Pick PROD, QA, UAT or DEV.', cloud: 'Pick AWS or Azure.', region: 'Unknown region.',
        container: 'Bucket names are 3-63 characters.', key: 'Keys cannot start with /.', assignmentGroup: 'Not a configured group.',
        priority: 'Pick a priority.', justification: 'Say why, in at least 10 characters.',
      },
      choices: requestChoices,
    },
  },
  { name: 'tickets', label: 'default', data: { requestId: REQ, userTicket, auditTicket } },
  { name: 'signIn', label: 'local', data: { requestId: REQ, provider: 'local', userName: 'Ada Lovelace' } },
  {
    name: 'signIn', label: 'device code',
    data: { requestId: REQ, provider: 'AWS IAM Identity Center', userName: 'Ada Lovelace', verificationUrl: 'https://device.sso.eu-west-1.amazonaws.com/', userCode: 'WDJB-MJHT', expires: humanDate('2024-05-01T10:10:00Z') },
  },
  {
    name: 'rolePicker', label: 'accounts',
    data: {
      requestId: REQ, provider: 'AWS IAM Identity Center', step: 'account', title: 'Choose an AWS account', expires: humanDate('2024-05-01T10:10:00Z'),
      options: [{ value: '111122223333', title: 'Data', detail: '111122223333 · data@example.com' }, { value: '444455556666', title: 'Logs', detail: '' }],
    },
  },
  {
    name: 'rolePicker', label: 'roles',
    data: {
      requestId: REQ, provider: 'AWS IAM Identity Center', step: 'role', title: 'Choose a role in AWS account 111122223333', expires: humanDate('2024-05-01T10:10:00Z'),
      options: [{ value: 'FileFerryReadOnly', title: 'FileFerryReadOnly', detail: '' }, { value: 'FileFerryAudit', title: 'FileFerryAudit', detail: '' }],
    },
  },
  {
    name: 'bucketPicker', label: 'two buckets',
    data: { requestId: REQ, cloud: 'AWS', region: 'eu-west-1', containers: [{ name: 'finance-exports', created: humanDate('2023-01-02T03:04:00Z') }, { name: 'hr-archive', created: '' }] },
  },
  { name: 'bucketPicker', label: 'none visible', data: { requestId: REQ, cloud: 'Azure', region: 'westeurope', containers: [] } },
  {
    name: 'filePicker', label: 'folder with parent, paging both ways',
    data: {
      requestId: REQ, container: 'finance-exports', prefix: '2024/05/', parentPrefix: '2024/', filter: 'led',
      folders: [{ name: 'archive/', prefix: '2024/05/archive/' }],
      objects: [
        { name: 'ledger.csv', key: '2024/05/ledger.csv', size: humanBytes(1.5 * 1024 ** 3), lastModified: humanDate('2024-05-31T23:59:00Z') },
        { name: 'ledger_v2.csv', key: '2024/05/ledger_v2.csv', size: humanBytes(512), lastModified: '' },
      ],
      nextToken: 'opaque-token-2', hasPrevious: true, pageNumber: 2,
    },
  },
  {
    name: 'filePicker', label: 'top level, empty, first and last page',
    data: { requestId: REQ, container: 'finance-exports', prefix: '', filter: '', folders: [], objects: [], hasPrevious: false, pageNumber: 1 },
  },
  {
    name: 'filePicker', label: 'root with parent "" and a filter matching nothing',
    data: { requestId: REQ, container: 'c', prefix: 'a/', parentPrefix: '', filter: 'zzz', folders: [], objects: [], hasPrevious: false, pageNumber: 1 },
  },
  {
    name: 'destinationForm', label: 'saved only, nothing else',
    data: {
      requestId: REQ, fileName: 'ledger.csv', saved: [{ title: 'Acme SFTP (prod)', value: 'acme-prod' }], adHocAllowed: false, plainFtpAllowed: false,
      values: { ...destValues, savedDestination: 'acme-prod' }, errors: {},
    },
  },
  {
    name: 'destinationForm', label: 'ad hoc with every error, host key prompt and test results',
    data: {
      requestId: REQ, fileName: 'ledger.csv', saved: [], adHocAllowed: true, plainFtpAllowed: true,
      values: { ...destValues, protocol: 'ftp', plainFtpConsent: 'true' },
      errors: {
        savedDestination: 'x', protocol: 'Pick a protocol.', host: 'Host names cannot contain spaces.', port: 'Ports are 1-65535.',
        username: 'Enter a user name.', password: 'Enter the password.', remoteFolder: 'Folders cannot contain "..".',
        overwrite: 'Pick what to do.', plainFtpConsent: 'Plain FTP needs your explicit consent.',
      },
      hostKeyPrompt: { host: 'sftp.customer.example', fingerprint: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8' },
      testResults: [
        { step: 'Reach sftp.customer.example:22', ok: true, detail: 'Connected in 12 ms' },
        { step: 'Host key', ok: false, detail: 'Not yet trusted' },
      ],
    },
  },
  {
    name: 'destinationForm', label: 'saved and ad hoc, no plain FTP, empty test results',
    data: {
      requestId: REQ, fileName: 'ledger.csv', saved: [{ title: 'Acme SFTP', value: 'acme' }], adHocAllowed: true, plainFtpAllowed: false,
      values: destValues, errors: {}, testResults: [],
    },
  },
  {
    name: 'confirm', label: 'default',
    data: {
      requestId: REQ, fileName: 'ledger.csv', source: 's3://finance-exports/2024/05/ledger.csv', size: humanBytes(1.5 * 1024 ** 3),
      destination: 'Acme SFTP (prod)', remotePath: '/upload/in/ledger.csv', overwrite: 'Stop and tell me',
    },
  },
  ...[0, 42.5, 100].map((percent): Fixture => ({
    name: 'progress', label: `${percent}%`,
    data: {
      requestId: REQ, fileName: 'ledger.csv', percent, bytes: `${humanBytes(412 * 1024 ** 2)} of ${humanBytes(1024 ** 3)}`,
      rate: humanRate(45.2 * 1024 ** 2), eta: humanDuration(percent === 0 ? Infinity : 14), attempt: percent === 100 ? 2 : 1,
    },
  })),
  {
    name: 'completed', label: 'default',
    data: {
      requestId: REQ, fileName: 'ledger.csv', userTicket, auditTicket, size: humanBytes(1.5 * 1024 ** 3), duration: humanDuration(34),
      rate: humanRate(45.2 * 1024 ** 2), sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      verification: 'size and SHA-256 match the source', destination: 'Acme SFTP (prod)',
    },
  },
  {
    name: 'failed', label: 'retryable',
    data: { requestId: REQ, fileName: 'ledger.csv', reason: 'The server stopped answering.', hint: 'Retry; it resumes where it stopped.', code: 'NETWORK', canRetry: true },
  },
  {
    name: 'failed', label: 'permanent',
    data: { requestId: REQ, fileName: 'ledger.csv', reason: 'The host key changed.', hint: 'Ask the server admin.', code: 'HOST_KEY_MISMATCH', canRetry: false },
  },
  { name: 'cancelling', label: 'default', data: { requestId: REQ, fileName: 'ledger.csv' } },
  { name: 'inactive', label: 'default', data: { message: 'This request moved on; use the newest card.' } },
  { name: 'error', label: 'default', data: { correlationId: '8c1f0e2a-4b1d-4a36-9d0e-5f1f1c9b0a11', message: 'I could not finish that step.' } },
  {
    name: 'requestList', label: 'two requests',
    data: {
      title: 'Your last requests',
      requests: [
        { requestId: REQ, fileName: 'ledger.csv', state: 'completed', updated: humanDate('2024-05-01T14:03:00Z'), tickets: 'RITM0010042 · SCTASK0020017' },
        { requestId: 'REQ-2', fileName: 'hr.zip', state: 'failed', updated: humanDate('2024-05-02T14:03:00Z'), tickets: 'RITM0010043 · SCTASK0020018' },
      ],
    },
  },
  { name: 'requestList', label: 'none', data: { title: 'Your last requests', requests: [] } },
  { name: 'awaitingApproval', label: 'with tickets', data: { requestId: REQ, fileName: 'ledger.csv', approvers: 'bob@contoso.com', decidedIn: 'Teams', expires: humanDate('2024-05-02T14:03:00Z'), userTicket, auditTicket } },
  { name: 'awaitingApproval', label: 'no tickets', data: { requestId: REQ, fileName: 'ledger.csv', approvers: 'the approvers in ServiceNow', decidedIn: 'ServiceNow', expires: humanDate('2024-05-02T14:03:00Z') } },
  {
    name: 'approvalRequest', label: 'with note',
    data: {
      requestId: REQ, requester: 'Ada Lovelace', environment: 'PROD', group: 'Data Platform', fileName: 'ledger.csv', size: '1.0 MiB',
      source: 'AWS finance-exports/2024/05/ledger.csv', destination: 'Acme SFTP /upload/in/ledger.csv', justification: 'Customer audit.',
      expires: humanDate('2024-05-02T14:03:00Z'), userTicket, auditTicket, note: 'Say why you reject it.',
    },
  },
  { name: 'approvalClosed', label: 'approved', data: { requestId: REQ, fileName: 'ledger.csv', headline: 'Approved by you', detail: 'The transfer has started.', color: 'Good', comment: 'OK' } },
];

/** Every object in the card, skipping action fallbacks (they mirror their action). */
function objects(node: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(node)) node.forEach((n) => objects(n, out));
  else if (node && typeof node === 'object') {
    out.push(node as Json);
    for (const [k, v] of Object.entries(node)) if (k !== 'fallback') objects(v, out);
  }
  return out;
}
const ofType = (card: Json, prefix: string) => objects(card).filter((o) => typeof o.type === 'string' && o.type.startsWith(prefix));
const executes = (card: Json) => ofType(card, 'Action.Execute');
/** TextBlock texts as Teams shows them (Markdown escapes removed). */
const texts = (card: Json) => ofType(card, 'TextBlock').map((t) => unescapeMarkdown(String(t.text)));
const input = (card: Json, id: string) => ofType(card, 'Input.').find((i) => i.id === id);

/** Parser and validator messages from the adaptivecards package, targeting schema 1.5. */
function adaptiveCardsProblems(card: Json): { problems: string[]; parsed: AdaptiveCards.AdaptiveCard } {
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  parsed.parse(card, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  for (const e of parsed.validateProperties().validationEvents) problems.push(`validate: ${e.message}`);
  return { problems, parsed };
}

/**
 * Properties the parser silently ignored: a typo ("colour") or a value it did not accept would be
 * dropped from the re-serialised card. Keys that may legitimately vanish are defaults and the
 * Action.Submit fallbacks (the JS library keeps an action's fallback only for unknown types).
 */
function droppedProperties(source: unknown, reparsed: unknown, path = '$'): string[] {
  if (Array.isArray(source)) {
    if (!Array.isArray(reparsed)) return source.length === 0 ? [] : [`${path} (array dropped)`];
    if (source.length !== reparsed.length) return [`${path} (${source.length} items became ${reparsed.length})`];
    return source.flatMap((s, i) => droppedProperties(s, reparsed[i], `${path}[${i}]`));
  }
  if (!source || typeof source !== 'object') return [];
  const out = (reparsed ?? {}) as Json;
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(source)) {
    const allowed =
      key === 'fallback' || value === '' || value === false || (key === 'isVisible' && value === true) ||
      (Array.isArray(value) && value.length === 0) || (key === 'spacing' && value === 'Default');
    if (!(key in out)) {
      if (!allowed) dropped.push(`${path}.${key}`);
      continue;
    }
    dropped.push(...droppedProperties(value, out[key], `${path}.${key}`));
  }
  return dropped;
}

describe('card templates', () => {
  it('there is a template, schema 1.5, for every card name, and a fixture for each', () => {
    for (const name of CARD_NAMES) {
      const raw = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cards', `${name}.json`), 'utf8')) as Json;
      assert.equal(raw.$schema, 'http://adaptivecards.io/schemas/adaptive-card.json', name);
      assert.equal(raw.type, 'AdaptiveCard', name);
      assert.equal(raw.version, '1.5', name);
      assert.ok(FIXTURES.some((f) => f.name === name), `no fixture for ${name}`);
    }
  });

  for (const fixture of FIXTURES) {
    describe(`${fixture.name} (${fixture.label})`, () => {
      const card = expandCard(fixture.name, fixture.data as never);

      it('expands completely', () => {
        assert.doesNotMatch(JSON.stringify(card), /\$\{/);
        assert.doesNotMatch(JSON.stringify(card), /"\$(data|when)"/);
      });

      it('parses with the adaptivecards package with no errors or warnings, and nothing silently dropped', () => {
        const { problems, parsed } = adaptiveCardsProblems(card);
        assert.deepEqual(problems, []);
        const reparsed = parsed.toJSON(new AC.SerializationContext(AC.Versions.v1_5));
        assert.deepEqual(droppedProperties(card, reparsed), []);
      });

      it('has inputs with unique ids that do not shadow action data, labels on every input', () => {
        const inputs = ofType(card, 'Input.');
        const ids = inputs.map((i) => i.id);
        assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids.join(', ')}`);
        for (const i of inputs) {
          assert.ok(typeof i.id === 'string' && i.id !== '' && !['verb', 'requestId'].includes(i.id), `bad id ${String(i.id)}`);
          assert.ok(typeof i.label === 'string' && i.label !== '', `input ${String(i.id)} has no label`);
          if (i.isRequired) assert.ok(i.errorMessage, `required input ${String(i.id)} has no errorMessage`);
        }
      });

      it('routes every Action.Execute by a known verb, with data.verb, requestId and a Submit fallback', () => {
        for (const action of executes(card)) {
          const verb = action.verb;
          assert.ok(isVerb(verb), `unknown verb ${String(verb)}`);
          const data = action.data as Json;
          assert.equal(data.verb, verb);
          if (verb !== 'request.new' && verb !== 'request.submit') {
            assert.ok(typeof data.requestId === 'string' && data.requestId !== '', `${verb} without requestId`);
          }
          const fallback = action.fallback as Json;
          assert.equal(fallback.type, 'Action.Submit');
          assert.equal(fallback.title, action.title);
          assert.deepEqual(fallback.data, data);
        }
      });

      it('each action reads back the same through an adaptiveCard/action invoke and a message submit', () => {
        for (const action of executes(card)) {
          const typed = { filter: 'typed' };
          const viaInvoke = readCardAction({
            type: 'invoke', name: 'adaptiveCard/action',
            value: { action: { type: 'Action.Execute', verb: action.verb, data: { ...(action.data as Json), ...typed } }, trigger: 'manual' },
          });
          const fallback = action.fallback as Json;
          const viaSubmit = readCardAction({ type: 'message', value: { ...(fallback.data as Json), ...typed } });
          assert.deepEqual(viaInvoke, { verb: action.verb, data: { ...(action.data as Json), ...typed }, via: 'invoke' });
          assert.deepEqual(viaSubmit, { ...viaInvoke, via: 'submit' });
        }
      });
    });
  }
});

describe('card content', () => {
  const fixture = <K extends CardName>(name: K, label: string): CardData[K] => {
    const f = FIXTURES.find((x) => x.name === name && x.label === label);
    assert.ok(f, `${name}/${label}`);
    return f.data as CardData[K];
  };
  const verbs = (card: Json) => executes(card).map((a) => a.verb);

  it('text from outside shows as typed: an object key cannot become a link or emphasis, and actions carry it unchanged', () => {
    const hostile = '[Sign in again](https://phish.example)_*now*_\\';
    const base = fixture('filePicker', 'folder with parent, paging both ways');
    const card = expandCard('filePicker', { ...base, objects: [{ name: hostile, key: `2024/05/${hostile}`, size: '1 B', lastModified: '' }] });
    const shown = ofType(card, 'TextBlock').map((t) => String(t.text)).find((t) => t.includes('Sign in again'));
    assert.equal(shown, escapeMarkdown(hostile), 'the TextBlock holds the escaped text');
    assert.ok(!/(^|[^\\])\[Sign in again\]\(/.test(shown!), 'no unescaped link syntax is left');
    assert.equal(unescapeMarkdown(shown!), hostile, 'a reader sees exactly the name');
    const pick = executes(card).find((a) => a.verb === 'file.pick' && String((a.data as Json).objectKey).includes('Sign in again'));
    assert.equal((pick?.data as Json).objectKey, `2024/05/${hostile}`, 'the click carries the real key back');
    const failed = expandCard('failed', { ...fixture('failed', 'retryable'), reason: 'Server said: [reset](https://x.example)' });
    assert.ok(texts(failed).includes('Server said: [reset](https://x.example)'));
    assert.ok(!ofType(failed, 'TextBlock').some((t) => String(t.text).includes('[reset](')), "a server's reply is escaped too");
  });

  it('renderCard wraps the expanded card as an Adaptive Card attachment', () => {
    const attachment = renderCard('welcome', { userName: 'Ada' });
    assert.equal(attachment.contentType, 'application/vnd.microsoft.card.adaptive');
    assert.deepEqual(attachment.content, expandCard('welcome', { userName: 'Ada' }));
  });

  it('the request form keeps typed values and shows each field error under it', () => {
    const data = fixture('requestForm', 'every field in error, values kept');
    const card = expandCard('requestForm', data);
    for (const [id, value] of Object.entries(data.values)) assert.equal(input(card, id)?.value, value, id);
    for (const message of Object.values(data.errors)) {
      const block = ofType(card, 'TextBlock').find((t) => t.text === message);
      assert.ok(block, message);
      assert.equal(block.color, 'Attention');
    }
    assert.equal(input(card, 'justification')?.isMultiline, true);
    assert.deepEqual((input(card, 'environment')?.choices as Json[]).map((c) => c.value), ['PROD', 'QA', 'UAT', 'DEV']);
    assert.equal((executes(card)[0].data as Json).requestId, REQ);
    const clean = expandCard('requestForm', fixture('requestForm', 'empty draft'));
    assert.equal(ofType(clean, 'TextBlock').filter((t) => t.color === 'Attention').length, 0);
    assert.equal((executes(clean)[0].data as Json).requestId, '');
  });

  it('the sign-in card offers "Continue as" locally and the code and link for device sign-in', () => {
    const local = expandCard('signIn', fixture('signIn', 'local'));
    assert.deepEqual(executes(local).map((a) => a.title), ['Continue as Ada Lovelace']);
    assert.equal(ofType(local, 'Action.OpenUrl').length, 0);
    const device = expandCard('signIn', fixture('signIn', 'device code'));
    assert.ok(texts(device).includes('WDJB-MJHT'));
    assert.ok(texts(device).some((t) => t.includes(`works until ${humanDate('2024-05-01T10:10:00Z')}`)), 'the card says when the code expires');
    assert.equal(ofType(device, 'Action.OpenUrl')[0].url, 'https://device.sso.eu-west-1.amazonaws.com/');
    assert.deepEqual(verbs(device), ['signin.continue']);
  });

  it('the tickets card links both numbers', () => {
    const card = expandCard('tickets', fixture('tickets', 'default'));
    const all = texts(card).join('\n');
    assert.ok(all.includes(`[${userTicket.number}](${userTicket.url})`));
    assert.ok(all.includes(`[${auditTicket.number}](${auditTicket.url})`));
  });

  it('the bucket picker picks by name, or says nothing is visible', () => {
    const card = expandCard('bucketPicker', fixture('bucketPicker', 'two buckets'));
    assert.deepEqual(executes(card).map((a) => (a.data as Json).container), ['finance-exports', 'hr-archive']);
    assert.deepEqual(texts(card).filter((t) => t.startsWith('Created')), ['Created 2023-01-02 03:04 UTC']);
    const none = expandCard('bucketPicker', fixture('bucketPicker', 'none visible'));
    assert.equal(executes(none).length, 0);
    assert.ok(texts(none).some((t) => t.includes('westeurope')));
  });

  it('the file picker lists folders, files with size and date, up, filter and paging', () => {
    const card = expandCard('filePicker', fixture('filePicker', 'folder with parent, paging both ways'));
    const open = executes(card).filter((a) => a.verb === 'files.open').map((a) => (a.data as Json).prefix);
    assert.deepEqual(open, ['2024/', '2024/05/archive/']);
    assert.deepEqual(executes(card).filter((a) => a.verb === 'file.pick').map((a) => (a.data as Json).objectKey), ['2024/05/ledger.csv', '2024/05/ledger_v2.csv']);
    assert.ok(texts(card).includes('1.5 GiB · modified 2024-05-31 23:59 UTC'));
    assert.ok(texts(card).includes('512 B'), 'no dangling "modified" without a date');
    assert.equal(input(card, 'filter')?.value, 'led');
    const paging = executes(card).filter((a) => a.verb === 'files.page').map((a) => a.data as Json);
    assert.deepEqual(paging.map((d) => [d.direction, d.token]), [['previous', undefined], ['next', 'opaque-token-2']]);
    assert.deepEqual(verbs(expandCard('filePicker', fixture('filePicker', 'top level, empty, first and last page'))), ['files.filter']);
    const root = expandCard('filePicker', fixture('filePicker', 'root with parent "" and a filter matching nothing'));
    assert.deepEqual(executes(root).filter((a) => a.verb === 'files.open').map((a) => (a.data as Json).prefix), ['']);
    assert.ok(texts(root).includes('Nothing here matches “zzz”.'));
  });

  it('the destination form shows saved and ad hoc parts by policy, never echoes a password, and asks to trust a new host key', () => {
    const saved = expandCard('destinationForm', fixture('destinationForm', 'saved only, nothing else'));
    assert.equal(input(saved, 'savedDestination')?.value, 'acme-prod');
    assert.equal(input(saved, 'host'), undefined);
    assert.deepEqual(verbs(saved), ['dest.test', 'dest.submit']);
    assert.deepEqual(executes(saved).map((a) => a.title), ['Test connection', 'Continue']);

    const data = fixture('destinationForm', 'ad hoc with every error, host key prompt and test results');
    const adHoc = expandCard('destinationForm', data);
    assert.equal(input(adHoc, 'savedDestination'), undefined);
    const password = input(adHoc, 'password');
    assert.equal(password?.style, 'Password');
    assert.equal(password?.value, undefined);
    assert.equal(input(adHoc, 'host')?.value, 'sftp.customer.example');
    assert.equal(input(adHoc, 'plainFtpConsent')?.value, 'true');
    assert.ok((input(adHoc, 'protocol')?.choices as Json[]).some((c) => c.value === 'ftp'));
    for (const [field, message] of Object.entries(data.errors)) {
      if (field !== 'savedDestination') assert.ok(texts(adHoc).includes(message), field);
    }
    const trust = executes(adHoc).find((a) => a.verb === 'dest.trustHostKey');
    assert.equal((trust?.data as Json).fingerprint, data.hostKeyPrompt?.fingerprint);
    const fingerprint = ofType(adHoc, 'TextBlock').find((t) => t.text === data.hostKeyPrompt?.fingerprint);
    assert.equal(fingerprint?.fontType, 'Monospace');
    assert.ok(texts(adHoc).includes('✅') && texts(adHoc).includes('❌') && texts(adHoc).includes('Not yet trusted'));

    const noFtp = expandCard('destinationForm', fixture('destinationForm', 'saved and ad hoc, no plain FTP, empty test results'));
    assert.equal(input(noFtp, 'plainFtpConsent'), undefined);
    assert.deepEqual((input(noFtp, 'protocol')?.choices as Json[]).map((c) => c.value), ['sftp', 'ftps']);
    assert.ok(!texts(noFtp).includes('Connection test'));
  });

  it('the progress bar is two weighted columns that follow the percentage', () => {
    const bar = (percent: number) => {
      const card = expandCard('progress', fixture('progress', `${percent}%`));
      const set = ofType(card, 'ColumnSet').find((s) => (s.columns as Json[]).every((c) => c.minHeight === '10px'));
      assert.ok(set);
      assert.deepEqual(verbs(card), ['transfer.cancel']);
      return (set.columns as Json[]).map((c) => [c.style, c.width]);
    };
    assert.deepEqual(bar(0), [['emphasis', 100]]);
    assert.deepEqual(bar(42.5), [['accent', 42.5], ['emphasis', 57.5]]);
    assert.deepEqual(bar(100), [['accent', 100]]);
    assert.ok(texts(expandCard('progress', fixture('progress', '42.5%'))).includes('42%'));
  });

  it('the completion card says the agreed sentence and carries tickets, size, duration, rate and SHA-256', () => {
    const data = fixture('completed', 'default');
    const card = expandCard('completed', data);
    assert.ok(texts(card).includes('Your file ledger.csv has been transferred successfully'));
    const sha = ofType(card, 'TextBlock').find((t) => t.text === data.sha256);
    assert.equal(sha?.fontType, 'Monospace');
    assert.equal(sha?.wrap, true);
    const facts = ofType(card, 'FactSet').flatMap((f) => f.facts as Json[]).map((f) => f.value);
    for (const v of [REQ, data.size, data.duration, data.rate, data.verification]) assert.ok(facts.includes(v), v);
    const all = texts(card).join('\n');
    assert.ok(all.includes(userTicket.number) && all.includes(auditTicket.number));
  });

  it('the failure card offers Retry only when retrying makes sense', () => {
    assert.deepEqual(verbs(expandCard('failed', fixture('failed', 'retryable'))), ['transfer.retry', 'request.new']);
    const permanent = expandCard('failed', fixture('failed', 'permanent'));
    assert.deepEqual(verbs(permanent), ['request.new']);
    assert.ok(texts(permanent).some((t) => t.includes('HOST_KEY_MISMATCH')));
  });

  it('the request list links each request to its status', () => {
    const card = expandCard('requestList', fixture('requestList', 'two requests'));
    assert.deepEqual(executes(card).filter((a) => a.verb === 'request.status').map((a) => (a.data as Json).requestId), [REQ, 'REQ-2']);
    assert.ok(texts(expandCard('requestList', fixture('requestList', 'none'))).some((t) => t.startsWith('No requests yet')));
  });
});

describe('the checks themselves', () => {
  it('a field missing from the data stays visible as ${…}, which the expansion check catches', () => {
    assert.match(JSON.stringify(expandCard('welcome', {} as never)), /\$\{userName\}/);
  });

  it('the dropped-property check catches a misspelt property and an invalid value', () => {
    const card = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'x', colour: 'Attention' }] };
    const { parsed } = adaptiveCardsProblems(card);
    assert.deepEqual(droppedProperties(card, parsed.toJSON(new AC.SerializationContext(AC.Versions.v1_5))), ['$.body[0].colour']);
    const bad = { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text: 'x', horizontalAlignment: 'Centre' }] };
    assert.equal(adaptiveCardsProblems(bad).problems.length, 1);
  });
});

describe('readCardAction', () => {
  it('ignores other activities and unknown verbs', () => {
    assert.equal(readCardAction({ type: 'message', value: { verb: 'files.delete' } }), undefined);
    assert.equal(readCardAction({ type: 'message' }), undefined);
    assert.equal(readCardAction({ type: 'invoke', name: 'signin/verifyState', value: { state: 'x' } }), undefined);
    assert.equal(readCardAction({ type: 'invoke', name: 'adaptiveCard/action', value: { action: { verb: 42 } } }), undefined);
  });
});
