import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sinon from 'sinon';
import { JsonlAudit } from '../../src/adapters/audit/jsonlAudit';
import { verifyAuditChain } from '../../src/domain/auditChain';
import type { AuditEvent, AuditLog, AuditRecord } from '../../src/ports/auditLog';
import { StoreError } from '../../src/domain/errors';
import { buildSecrets, destinationFactory } from '../../src/adapters/registry';
import { MemoryHostKeys } from '../../src/adapters/store/memoryHostKeys';
import { MemoryDocuments } from '../../src/adapters/store/memoryDocuments';
import { LocalIdentity } from '../../src/adapters/identity/localIdentity';
import { LogNotifier } from '../../src/adapters/notifier/logNotifier';
import { LocalSource } from '../../src/adapters/source/localSource';
import { LocalTicketing } from '../../src/adapters/ticketing/localTicketing';
import { DestinationError, cancelled } from '../../src/domain/errors';
import { createLogger } from '../../src/log';
import type { TransferRequest, TransferResult } from '../../src/transfer/types';
import type { ActionGate } from '../../src/workflow/actionGate';
import { MemoryRequestRepository } from '../../src/adapters/store/memoryRequestRepository';
import { RequestWorkflow } from '../../src/workflow/requestWorkflow';
import type { Actor, RequestRecord } from '../../src/domain/requestRecord';
import { endingScreen, type Screen } from '../../src/workflow/screens';
import type { WorkflowPolicy } from '../../src/workflow/workflowContext';
import { WorkflowError } from '../../src/domain/workflowError';
import { seedSources } from '../support/sampleSources';
import { tempDir } from '../support/tmp';

const FORM = { environment: 'DEV', cloud: 'AWS', region: 'eu-west-1', assignmentGroup: 'DataOps', priority: '3', justification: 'Request lifecycle unit test.' };
const alice: Actor = { userId: 'user-alice', tenantId: 't1', name: 'Alice' };
// Taken before any test fakes the clock: `until` polls in real time while the workflow's timers are fake.
const { setTimeout: realSetTimeout } = globalThis;
const sleep = (ms: number) => new Promise((r) => realSetTimeout(r, ms));

/** A transfer engine the test drives: each run waits until the test settles it (abort alone does not). */
function scriptedEngine() {
  const runs: { request: TransferRequest; resolve: (r: TransferResult) => void; reject: (e: unknown) => void }[] = [];
  return {
    runs,
    run: (request: TransferRequest) => new Promise<TransferResult>((resolve, reject) => void runs.push({ request, resolve, reject })),
    result: (request: TransferRequest): TransferResult => ({
      status: 'completed', bytes: request.object!.size, sha256: 'ab'.repeat(32), seconds: 1, attempts: 1, resumedFromBytes: [], verification: 'size', finalPath: request.remotePath,
    }),
  };
}

/** A repository whose next `get`s can be made to fail (a database outage). */
class FlakyRepository extends MemoryRequestRepository {
  failGets = 0;
  override async get(requestId: string): Promise<RequestRecord | undefined> {
    if (this.failGets > 0) {
      this.failGets--;
      throw new Error('the database is unreachable');
    }
    return super.get(requestId);
  }
}

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const v = await probe();
    if (v) return v;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('RequestWorkflow: the ends of a request', () => {
  let dir: { path: string; remove: () => Promise<void> };
  const built: RequestWorkflow[] = [];

  before(async () => {
    dir = await tempDir('lifecycle');
    await seedSources(join(dir.path, 'sources'), { binaryBytes: 64 * 1024 });
    await mkdir(join(dir.path, 'outbox'));
  });
  after(async () => {
    await Promise.all(built.map((w) => w.shutdown()));
    await dir?.remove();
  });

  function build(options: { repository?: MemoryRequestRepository; policy?: Partial<WorkflowPolicy>; realEngine?: boolean; audit?: AuditLog } = {}) {
    const repository = options.repository ?? new MemoryRequestRepository();
    const engine = scriptedEngine();
    const finished: { record: RequestRecord; screen: Screen }[] = [];
    const log = createLogger({ level: 'silent' });
    const workflow = new RequestWorkflow({
      repository,
      identity: new LocalIdentity(() => new LocalSource(join(dir.path, 'sources'))),
      ticketing: new LocalTicketing({ file: join(dir.path, 'tickets.jsonl'), baseUrl: 'http://localhost' }),
      audit: options.audit ?? new JsonlAudit(join(dir.path, 'audit.jsonl')),
      notifier: new LogNotifier(log),
      hostKeys: new MemoryHostKeys(),
      documents: new MemoryDocuments(),
      destinations: destinationFactory,
      secrets: buildSecrets({ env: {} }),
      policy: {
        assignmentGroups: ['DataOps'],
        savedDestinations: [{ name: 'Local outbox', spec: { protocol: 'local', root: join(dir.path, 'outbox'), folder: '/', label: 'Local outbox' } }],
        allowAdHoc: false,
        allowPlainFtp: false,
        autoLogoutSeconds: 60,
        ...options.policy,
      },
      log,
      runTransfer: options.realEngine ? undefined : engine.run,
      serviceSource: (ref) => (ref.scheme === 'file' ? new LocalSource(join(dir.path, 'sources')) : undefined),
    });
    workflow.addListener({ onFinished: (record, ending) => void finished.push({ record, screen: endingScreen(record, ending) }) });
    built.push(workflow);
    const gate = (workflow as unknown as { gate: ActionGate<unknown> }).gate;
    return { workflow, repository, engine, finished, gate };
  }

  /** A new request with reports/q1-sales.csv picked, at the destination form. */
  async function toDestinationForm(workflow: RequestWorkflow): Promise<string> {
    const form = await workflow.startRequest(alice, {});
    const id = (form as Extract<Screen, { kind: 'requestForm' }>).requestId;
    await workflow.submitRequest(alice, id, FORM);
    await workflow.continueSignIn(alice, id);
    await workflow.pickBucket(alice, id, 'sample-bucket');
    await workflow.openFolder(alice, id, 'reports/');
    await workflow.pickFile(alice, id, 'reports/q1-sales.csv');
    return id;
  }

  async function toConfirm(workflow: RequestWorkflow): Promise<string> {
    const id = await toDestinationForm(workflow);
    await workflow.submitDestination(alice, id, { savedDestination: 'Local outbox', overwrite: 'fail' });
    return id;
  }

  it('answers Cancel at once while the engine is still stopping, again on a repeat, then records the cancel', async () => {
    const { workflow, repository, engine, finished } = build();
    const id = await toConfirm(workflow);
    await workflow.confirmTransfer(alice, id);
    const run = await until('the transfer to start', () => engine.runs[0]);
    // The engine has not stopped (the run is still pending) when Cancel is answered.
    const first = await workflow.cancel(alice, id);
    assert.equal(first.screen.kind, 'cancelling');
    assert.ok(run.request.signal?.aborted, 'the transfer was told to stop');
    assert.equal((await workflow.cancel(alice, id)).screen.kind, 'cancelling', 'a repeat is answered the same way');
    assert.equal((await repository.get(id))!.state, 'transferring');
    run.reject(cancelled());
    const end = await until('the end of the transfer', () => finished.find((f) => f.record.id === id));
    assert.equal(end.screen.kind === 'failed' && end.screen.code, 'CANCELLED');
    assert.equal((await repository.get(id))!.state, 'cancelled');
  });

  it('a failure while recording the end marks the request failed, tells the listeners, and rejects nothing', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const repository = new FlakyRepository();
      const { workflow, engine, finished } = build({ repository });
      const id = await toConfirm(workflow);
      await workflow.confirmTransfer(alice, id);
      const run = await until('the transfer to start', () => engine.runs[0]);
      repository.failGets = 1;
      run.resolve(engine.result(run.request));
      const end = await until('the end of the transfer', () => finished.find((f) => f.record.id === id));
      assert.equal(end.screen.kind, 'failed');
      assert.equal(end.screen.kind === 'failed' && end.screen.canRetry, false);
      assert.match(end.screen.kind === 'failed' ? end.screen.reason : '', /could not record/);
      const stored = (await repository.get(id))!;
      assert.equal(stored.state, 'failed');
      assert.equal(stored.failure?.code, 'INTERNAL');
      await sleep(20);
      assert.deepEqual(unhandled, [], 'no unhandled rejection');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('keeps what Retry needs however long the transfer ran', async () => {
    // The vault's time-to-live is a setTimeout: on a fake clock it passes only where the test moves
    // time (while the transfer runs), not while a busy machine gets from one step to the next.
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldClearNativeTimers: true });
    try {
      // A time-to-live of about 60 ms: far shorter than this transfer.
      const { workflow, engine, finished } = build({ policy: { requestTtlMinutes: 0.001, retryWindowMinutes: 0.001 } });
      const id = await toConfirm(workflow);
      await workflow.confirmTransfer(alice, id);
      const run = await until('the transfer to start', () => engine.runs[0]);
      await clock.tickAsync(300);
      run.reject(new DestinationError('NETWORK', 'The connection to the test server dropped.'));
      const end = await until('the end of the transfer', () => finished.find((f) => f.record.id === id));
      assert.equal(end.screen.kind === 'failed' && end.screen.canRetry, true, 'Retry is offered');
      const retried = await workflow.retry(alice, id);
      assert.equal(retried.screen.kind, 'progress');
      const second = await until('the retried transfer', () => engine.runs[1]);
      second.resolve(engine.result(second.request));
      await until('the retried transfer to complete', () => finished.find((f) => f.record.id === id && f.screen.kind === 'completed'));
    } finally {
      clock.restore();
    }
  });

  it('forgets the idempotency memo once a request has ended', async () => {
    const { workflow, engine, finished, gate } = build();
    const id = await toConfirm(workflow);
    assert.ok(await gate.remembers(id), 'a request in progress is remembered');
    await workflow.confirmTransfer(alice, id);
    const run = await until('the transfer to start', () => engine.runs[0]);
    run.resolve(engine.result(run.request));
    await until('the end of the transfer', () => finished.find((f) => f.record.id === id));
    assert.equal(await gate.remembers(id), false);
  });

  it('keeps "has signed in" on the record, so a request never signs in again, even after a restart', async () => {
    const repository = new MemoryRequestRepository();
    const { workflow } = build({ repository });
    const form = await workflow.startRequest(alice, {});
    const id = (form as Extract<Screen, { kind: 'requestForm' }>).requestId;
    await workflow.submitRequest(alice, id, FORM);
    await workflow.continueSignIn(alice, id);
    const record = (await repository.get(id))!;
    assert.ok(record.signedInAt, 'the sign-in is on the record');
    // The process restarts with the same (persistent) repository, and the sign-in card is replayed.
    record.state = 'ticketed';
    await repository.put(record);
    const restarted = build({ repository }).workflow;
    await assert.rejects(restarted.continueSignIn(alice, id), (e: unknown) => e instanceof WorkflowError && e.code === 'SESSION_ENDED');
  });

  it('a request left transferring with no job (after a restart) fails as INTERRUPTED on cancel and on expiry', async () => {
    const repository = new MemoryRequestRepository();
    const before = build({ repository });
    const a = await toConfirm(before.workflow);
    const b = await toConfirm(before.workflow);
    for (const id of [a, b]) {
      const r = (await repository.get(id))!;
      r.state = 'transferring';
      r.updatedAt = new Date(Date.now() - 3 * 3600_000).toISOString();
      await repository.put(r);
    }
    const after = build({ repository });
    const cancelled = await after.workflow.cancel(alice, a);
    assert.equal(cancelled.screen.kind === 'failed' && cancelled.screen.code, 'INTERRUPTED');
    assert.equal((await repository.get(a))!.state, 'failed');
    assert.ok(await after.workflow.expireStale() >= 1);
    const expired = (await repository.get(b))!;
    assert.equal(expired.state, 'failed');
    assert.equal(expired.failure?.code, 'INTERRUPTED');
    assert.match(expired.failure?.hint ?? '', /transfer/);
    assert.ok(after.finished.some((f) => f.record.id === b && f.screen.kind === 'failed'), 'the owner is told');
  });

  it('a confirmed transfer is a TransferJobSpec on the record: plain JSON, secrets by reference only', async () => {
    const canary = `canary-${Math.random().toString(36).slice(2)}-pw`;
    const repository = new MemoryRequestRepository();
    const { workflow, engine, finished } = build({ repository, policy: { allowAdHoc: true } });
    const id = await toDestinationForm(workflow);
    const set = await workflow.submitDestination(alice, id, {
      savedDestination: 'adhoc', protocol: 'ftps', host: 'ftp.example.com', port: '2121', username: 'bob', password: canary, remoteFolder: '/in', overwrite: 'rename',
    });
    assert.equal(set.screen.kind, 'confirm');
    await workflow.confirmTransfer(alice, id);
    const run = await until('the transfer to start', () => engine.runs[0]);

    const record = (await repository.get(id))!;
    const job = record.job!;
    assert.deepEqual(JSON.parse(JSON.stringify(job)), job, 'the job survives JSON unchanged');
    assert.deepEqual(job.destination, { protocol: 'ftps', host: 'ftp.example.com', port: 2121, username: 'bob', folder: '/in', passwordRef: 'typed:password', allowPlainFtp: false });
    assert.equal(job.remotePath, '/in/q1-sales.csv');
    assert.equal(job.overwrite, 'rename');
    assert.equal(job.source.container, 'sample-bucket');
    assert.equal(job.source.object.key, 'reports/q1-sales.csv');
    assert.equal(typeof job.source.object.lastModified, 'string');
    assert.ok(!JSON.stringify(record).includes(canary), 'the typed password is nowhere in the stored record');
    assert.equal(run.request.destination.label, 'ftps://bob@ftp.example.com:2121');

    // The process that held the typed password is gone: the card says the transfer cannot be resumed.
    const after = build({ repository });
    const stored = (await repository.get(id))!;
    stored.updatedAt = new Date(Date.now() - 3 * 3600_000).toISOString();
    await repository.put(stored);
    const cancelled = await after.workflow.cancel(alice, id);
    assert.equal(cancelled.screen.kind === 'failed' && cancelled.screen.code, 'INTERRUPTED');
    assert.match(cancelled.screen.kind === 'failed' ? cancelled.screen.hint : '', /password typed on the card was held only by the FileFerry process that stopped/);
    run.resolve(engine.result(run.request));
    await until('the first process to record its end', () => finished.find((f) => f.record.id === id));
  });

  it('refuses a move the state table does not allow, and changes nothing', async () => {
    const repository = new MemoryRequestRepository();
    const { workflow } = build({ repository });
    const id = await toConfirm(workflow);
    const record = (await repository.get(id))!;
    record.state = 'completed';
    await repository.put(record);
    // A stale card (the request completed meanwhile) cannot cancel or restart it.
    await assert.rejects(workflow.cancel(alice, id), (e: unknown) => e instanceof WorkflowError && e.code === 'CARD_INACTIVE');
    await assert.rejects(workflow.confirmTransfer(alice, id), (e: unknown) => e instanceof WorkflowError && e.code === 'CARD_INACTIVE');
    assert.equal((await repository.get(id))!.state, 'completed');
  });

  it('after a restart, a transfer cut mid-way is found at start, and Resume continues into its temporary file', async () => {
    const repository = new MemoryRequestRepository();
    const before = build({ repository });
    const id = await toConfirm(before.workflow);
    await before.workflow.confirmTransfer(alice, id);
    const run = await until('the transfer to start', () => before.engine.runs[0]);
    // The dying process had written part of the file under its temporary name, and stored that name.
    const temporary = '/.q1-sales.csv.dead01.fileferry-part';
    const sample = await readFile(join(dir.path, 'sources', 'sample-bucket', 'reports', 'q1-sales.csv'));
    await writeFile(join(dir.path, 'outbox', temporary), sample.subarray(0, 10));
    const stored = (await repository.get(id))!;
    stored.transfer = { ...stored.transfer!, temporaryPath: temporary };
    await repository.put(stored);

    const after = build({ repository, realEngine: true });
    assert.equal(await after.workflow.recoverInterrupted(), 1);
    const told = after.finished.find((f) => f.record.id === id)!;
    assert.ok(told.screen.kind === 'failed' && told.screen.code === 'INTERRUPTED' && told.screen.canRetry, 'the owner is told, with Resume');
    assert.match(told.screen.kind === 'failed' ? told.screen.hint : '', /Press Retry to resume/);
    const resumed = await after.workflow.retry(alice, id);
    assert.equal(resumed.screen.kind, 'progress');
    await until('the resumed transfer to complete', () => after.finished.find((f) => f.record.id === id && f.screen.kind === 'completed'));
    assert.deepEqual(await readFile(join(dir.path, 'outbox', 'q1-sales.csv')), sample);
    assert.ok(!(await readdir(join(dir.path, 'outbox'))).some((n) => n.endsWith('.fileferry-part')), 'no temporary file is left');
    const done = (await repository.get(id))!;
    assert.equal(done.state, 'completed');
    const audit = await new JsonlAudit(join(dir.path, 'audit.jsonl')).readAll();
    assert.ok(audit.some((r) => r.requestId === id && r.type === 'transfer.resumed' && r.details?.fromByte === 10), 'it continued from the 10 bytes the outbox held');
    assert.ok(audit.some((r) => r.requestId === id && r.type === 'transfer.interrupted' && r.details?.resumable === true && r.details?.temporaryFile === 'kept'));
    run.reject(cancelled());
    await rm(join(dir.path, 'outbox', 'q1-sales.csv'));
  });

  /** An audit store that can be taken down and brought back. */
  function switchableAudit(file: string): AuditLog & { down: boolean; inner: JsonlAudit } {
    const inner = new JsonlAudit(file);
    const audit = {
      down: false,
      inner,
      append: async (event: AuditEvent): Promise<AuditRecord> => {
        if (audit.down) throw new StoreError('NETWORK', 'the audit store is unreachable');
        return inner.append(event);
      },
    };
    return audit;
  }

  it('does not start a transfer while the audit store is down, and says so on the confirm card', async () => {
    const audit = switchableAudit(join(dir.path, 'audit-outage-1.jsonl'));
    const { workflow, engine, repository } = build({ audit });
    const id = await toConfirm(workflow);
    audit.down = true;
    const refused = await workflow.confirmTransfer(alice, id);
    assert.equal(refused.screen.kind, 'confirm');
    assert.match(refused.screen.kind === 'confirm' ? refused.screen.note ?? '' : '', /audit log cannot be written.*nothing was sent/);
    assert.equal(engine.runs.length, 0, 'no transfer started');
    assert.equal((await repository.get(id))!.state, 'destination-set');
    audit.down = false;
    const started = await workflow.confirmTransfer(alice, id);
    assert.equal(started.screen.kind, 'progress');
    const run = await until('the transfer to start', () => engine.runs[0]);
    run.resolve(engine.result(run.request));
  });

  it('a transfer running when the audit store goes down finishes, and every event is written in order when it returns', async () => {
    const audit = switchableAudit(join(dir.path, 'audit-outage-2.jsonl'));
    const { workflow, engine, finished } = build({ audit });
    const id = await toConfirm(workflow);
    await workflow.confirmTransfer(alice, id);
    const run = await until('the transfer to start', () => engine.runs[0]);
    // The trail retries a down store after 1, 2, 5... s of real time: on a slow machine a retry could
    // fail while the store is still down and push the next one past `until`. On a fake clock no retry
    // happens until the store is back and the test moves time on.
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'], shouldClearNativeTimers: true });
    try {
      audit.down = true;
      run.resolve(engine.result(run.request));
      await until('the end of the transfer', () => finished.find((f) => f.record.id === id && f.screen.kind === 'completed'));
      assert.ok(!(await audit.inner.readAll()).some((r) => r.type === 'transfer.completed'), 'nothing could be written meanwhile');
      audit.down = false;
      // Past the trail's longest pause (a minute), so its retry is due whatever it has counted.
      await clock.tickAsync(60_000);
    } finally {
      clock.restore();
    }
    const types = await until('the waiting events to be written', async () => {
      const mine = (await audit.inner.readAll()).filter((r) => r.requestId === id).map((r) => r.type);
      return mine.includes('transfer.completed') && mine;
    });
    const order = types.filter((t) => ['transfer.confirmed', 'transfer.started', 'transfer.completed'].includes(t));
    assert.deepEqual(order, ['transfer.confirmed', 'transfer.started', 'transfer.completed'], 'in the order they happened');
    assert.equal((await verifyAuditChain(await audit.inner.readAll())).ok, true);
  });
});
