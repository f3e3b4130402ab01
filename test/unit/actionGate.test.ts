import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { JsonlAudit } from '../../src/adapters/audit/jsonlAudit';
import { LocalIdentity } from '../../src/adapters/identity/localIdentity';
import { LogNotifier } from '../../src/adapters/notifier/logNotifier';
import { buildSecrets, destinationFactory } from '../../src/adapters/registry';
import { LocalSource } from '../../src/adapters/source/localSource';
import { MemoryDocuments } from '../../src/adapters/store/memoryDocuments';
import { MemoryHostKeys } from '../../src/adapters/store/memoryHostKeys';
import { MemoryRequestRepository } from '../../src/adapters/store/memoryRequestRepository';
import { openSqliteStores } from '../../src/adapters/store/sqliteStores';
import { LocalTicketing } from '../../src/adapters/ticketing/localTicketing';
import { StoreError } from '../../src/domain/errors';
import type { Actor } from '../../src/domain/requestRecord';
import type { DocumentStore } from '../../src/ports/documentStore';
import type { SignInChallenge } from '../../src/ports/identityProvider';
import { ACTION_MEMO, ActionGate } from '../../src/workflow/actionGate';
import { outcomeMemoCodec } from '../../src/workflow/outcomeMemo';
import { RequestWorkflow } from '../../src/workflow/requestWorkflow';
import type { ActionOutcome, Screen } from '../../src/workflow/screens';
import { RecordingWorkflowLog } from '../support/recordingWorkflowLog';
import { seedSources } from '../support/sampleSources';
import { tempDir } from '../support/tmp';

const tickets = { user: { number: 'REQ0001001', url: 'http://localhost/tickets/REQ0001001' }, audit: { number: 'AUD0001001', url: 'http://localhost/tickets/AUD0001001' } };
const ticketsScreen = (requestId: string): ActionOutcome => ({ screen: { kind: 'tickets', requestId, tickets } });

/** A store that is down: every call fails as a network outage does. */
const downStore: DocumentStore = {
  get: () => Promise.reject(new StoreError('NETWORK', 'The document store is unreachable.')),
  put: () => Promise.reject(new StoreError('NETWORK', 'The document store is unreachable.')),
  delete: () => Promise.reject(new StoreError('NETWORK', 'The document store is unreachable.')),
  list: () => Promise.reject(new StoreError('NETWORK', 'The document store is unreachable.')),
};

describe('ActionGate: the idempotency memo in the DocumentStore', () => {
  let dir: { path: string; remove: () => Promise<void> };
  before(async () => {
    dir = await tempDir('gate');
  });
  after(async () => dir?.remove());

  it('answers a repeat at the same step from the store, also from a new process (SQLite file reopened)', async () => {
    const file = join(dir.path, 'gate.db');
    const first = openSqliteStores({ file });
    const gate = new ActionGate<ActionOutcome>(first.documents, { log: new RecordingWorkflowLog() });
    await gate.remember('FF-1', 'request.submit', 2, ticketsScreen('FF-1'));
    first.close();

    const second = openSqliteStores({ file });
    try {
      const restarted = new ActionGate<ActionOutcome>(second.documents, { log: new RecordingWorkflowLog() });
      assert.deepEqual(await restarted.recall('FF-1', 'request.submit', 2), ticketsScreen('FF-1'));
      assert.equal(await restarted.recall('FF-1', 'request.submit', 3), undefined, 'another step is not a repeat');
      assert.equal(await restarted.recall('FF-1', 'signin.continue', 2), undefined, 'another verb is not a repeat');
      assert.equal(await restarted.recall('FF-10', 'request.submit', 2), undefined, 'a request whose ID starts the same is another request');
    } finally {
      second.close();
    }
  });

  it('forgets now, or lets the memo expire after the grace (no timer: expiresAt)', async () => {
    let clock = Date.UTC(2031, 2, 14, 9, 0, 0);
    const now = (): Date => new Date(clock);
    const documents = new MemoryDocuments(now);
    const gate = new ActionGate<ActionOutcome>(documents, { log: new RecordingWorkflowLog(), now });
    await gate.remember('FF-A', 'request.submit', 2, ticketsScreen('FF-A'));
    await gate.remember('FF-A', 'transfer.confirm', 6, ticketsScreen('FF-A'));
    await gate.remember('FF-B', 'request.submit', 2, ticketsScreen('FF-B'));
    await gate.forget('FF-A', 60_000);
    assert.ok(await gate.recall('FF-A', 'transfer.confirm', 6), 'still answered during the grace');
    clock += 60_001;
    assert.equal(await gate.recall('FF-A', 'transfer.confirm', 6), undefined, 'gone after the grace');
    assert.equal(await gate.remembers('FF-A'), false);
    assert.equal(await gate.remembers('FF-B'), true, 'another request keeps its memo');
    await gate.forget('FF-B');
    assert.equal(await gate.remembers('FF-B'), false);
    clock += 25 * 60 * 60_000;
    await gate.remember('FF-C', 'request.submit', 2, ticketsScreen('FF-C'));
    clock += 24 * 60 * 60_000 + 1;
    assert.equal(await gate.remembers('FF-C'), false, 'a memo nobody forgot expires after a day');
  });

  it('never stores a device code: the screen keeps a marker, replays take it from memory, and after a restart it is not replayed', async () => {
    const userCode = `CANARY-${randomBytes(4).toString('hex').toUpperCase()}`;
    const challenge: SignInChallenge = { kind: 'device-code', provider: 'AWS IAM Identity Center', verificationUrl: 'https://device.sso.example/', userCode, expiresAt: new Date(Date.UTC(2031, 2, 14, 9, 10)) };
    const documents = new MemoryDocuments();
    const held = new Map([['FF-S', challenge]]);
    const gate = new ActionGate<ActionOutcome>(documents, { log: new RecordingWorkflowLog(), codec: outcomeMemoCodec((id) => held.get(id)) });
    const pending: ActionOutcome = { screen: { kind: 'signIn', requestId: 'FF-S', challenge, note: 'Not finished yet.' }, followUps: [{ kind: 'signIn', requestId: 'FF-S', challenge }] };
    await gate.remember('FF-S', 'signin.continue', 3, pending);

    const stored = JSON.stringify(await documents.list(ACTION_MEMO));
    assert.ok(!stored.includes(userCode), `the user code is not in the store: ${stored}`);
    const replay = await gate.recall('FF-S', 'signin.continue', 3);
    assert.deepEqual(replay, { screen: { kind: 'signIn', requestId: 'FF-S', challenge, note: 'Not finished yet.' } }, 'the screen again, with the challenge from memory, no follow-ups');

    const restarted = new ActionGate<ActionOutcome>(documents, { log: new RecordingWorkflowLog(), codec: outcomeMemoCodec(() => undefined) });
    assert.equal(await restarted.recall('FF-S', 'signin.continue', 3), undefined, 'the sign-in died with the process: the action is checked afresh');
  });

  it('a store that is down never fails an action: recall misses, remember and forget log and go on', async () => {
    const log = new RecordingWorkflowLog();
    const gate = new ActionGate<ActionOutcome>(downStore, { log });
    assert.equal(await gate.recall('FF-D', 'request.submit', 1), undefined);
    await gate.remember('FF-D', 'request.submit', 1, ticketsScreen('FF-D'));
    await gate.forget('FF-D');
    await gate.forget('FF-D', 1000);
    assert.equal(log.lines.filter((l) => l.level === 'warn').length, 4, log.text());
  });

  it('serial runs one action per request at a time, in order, and a failure does not stop the next', async () => {
    const gate = new ActionGate<ActionOutcome>(new MemoryDocuments(), { log: new RecordingWorkflowLog() });
    const order: string[] = [];
    const slow = gate.serial('FF-Q', async () => {
      await new Promise((r) => setTimeout(r, 30));
      order.push('first');
      throw new Error('boom');
    });
    const next = gate.serial('FF-Q', async () => void order.push('second'));
    await assert.rejects(slow, /boom/);
    await next;
    assert.deepEqual(order, ['first', 'second']);
  });

  describe('through the workflow', () => {
    const alice: Actor = { userId: 'user-alice', tenantId: 't1', name: 'Alice' };
    const FORM = { environment: 'DEV', cloud: 'AWS', region: 'eu-west-1', assignmentGroup: 'DataOps', priority: '3', justification: 'Memo test request.' };
    const built: RequestWorkflow[] = [];
    after(async () => Promise.all(built.map((w) => w.shutdown())));

    function workflowOver(shared: { repository: MemoryRequestRepository; documents: DocumentStore; ticketing: LocalTicketing }): RequestWorkflow {
      const log = new RecordingWorkflowLog();
      const workflow = new RequestWorkflow({
        ...shared,
        identity: new LocalIdentity(() => new LocalSource(join(dir.path, 'sources'))),
        audit: new JsonlAudit(join(dir.path, 'audit.jsonl')),
        notifier: new LogNotifier(log),
        hostKeys: new MemoryHostKeys(),
        destinations: destinationFactory,
        secrets: buildSecrets({ env: {} }),
        policy: { assignmentGroups: ['DataOps'], savedDestinations: [], allowAdHoc: false, allowPlainFtp: false, autoLogoutSeconds: 60 },
        log,
      });
      built.push(workflow);
      return workflow;
    }

    it('a submit re-sent after a restart gets the remembered tickets, and no second ticket pair is raised', async () => {
      await seedSources(join(dir.path, 'sources'), { binaryBytes: 1024 });
      const shared = { repository: new MemoryRequestRepository(), documents: new MemoryDocuments(), ticketing: new LocalTicketing({ file: join(dir.path, 'tickets.jsonl'), baseUrl: 'http://localhost' }) };
      let created = 0;
      const createPair = shared.ticketing.createPair.bind(shared.ticketing);
      shared.ticketing.createPair = async (input) => {
        created++;
        return createPair(input);
      };
      const before = workflowOver(shared);
      const form = (await before.startRequest(alice, {})) as Extract<Screen, { kind: 'requestForm' }>;
      const first = await before.submitRequest(alice, form.requestId, FORM);
      assert.equal(first.screen.kind, 'tickets');
      await before.shutdown();

      const after = workflowOver(shared);
      const again = await after.submitRequest(alice, form.requestId, FORM);
      assert.equal(again.replayed, true, 'answered from the stored memo');
      assert.deepEqual(again.screen, first.screen);
      assert.equal(again.followUps, undefined, 'no follow-up is posted again');
      assert.equal(created, 1, 'one ticket pair');
    });
  });
});
