import assert from 'node:assert/strict';
import { join } from 'node:path';
import { JsonlAudit } from '../../src/adapters/audit/jsonlAudit';
import { buildSecrets, destinationFactory } from '../../src/adapters/registry';
import { MemoryHostKeys } from '../../src/adapters/store/memoryHostKeys';
import { MemoryDocuments } from '../../src/adapters/store/memoryDocuments';
import { LocalIdentity } from '../../src/adapters/identity/localIdentity';
import { LogNotifier } from '../../src/adapters/notifier/logNotifier';
import { LocalSource } from '../../src/adapters/source/localSource';
import { LocalTicketing } from '../../src/adapters/ticketing/localTicketing';
import { createLogger } from '../../src/log';
import type { IdentitySession } from '../../src/ports/identityProvider';
import type { DestinationFactory } from '../../src/ports/destinationFactory';
import { MemoryRequestRepository } from '../../src/adapters/store/memoryRequestRepository';
import { RequestWorkflow } from '../../src/workflow/requestWorkflow';
import type { Actor } from '../../src/domain/requestRecord';
import type { Screen } from '../../src/workflow/screens';
import { WorkflowError } from '../../src/domain/workflowError';
import { faultyDestination } from '../support/faultyLocalDestination';
import { seedSources } from '../support/sampleSources';
import { tempDir } from '../support/tmp';

const FORM = { environment: 'DEV', cloud: 'AWS', region: 'eu-west-1', assignmentGroup: 'DataOps', priority: '3', justification: 'Workflow unit test request.' };
const alice: Actor = { userId: 'user-alice', tenantId: 't1', name: 'Alice' };

async function refusedWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof WorkflowError && e.code === code);
}

describe('RequestWorkflow (local adapters, real engine)', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let workflow: RequestWorkflow;
  let repository: MemoryRequestRepository;
  const signedOut: IdentitySession[] = [];
  let stall = false;

  before(async () => {
    dir = await tempDir('workflow');
    await seedSources(join(dir.path, 'sources'), { binaryBytes: 8 * 1024 * 1024 });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir.path, 'outbox'));
    const identity = new LocalIdentity(() => new LocalSource(join(dir.path, 'sources')));
    const signOut = identity.signOut.bind(identity);
    identity.signOut = async (s) => {
      signedOut.push(s);
      await signOut(s);
    };
    // The outbox stalls after 1 MiB while `stall` is set, so a transfer can be caught running.
    const destinations: DestinationFactory = {
      open: (spec, options) => {
        const d = destinationFactory.open(spec, options);
        return stall ? faultyDestination(d, { action: 'stall', afterBytes: 1024 * 1024, times: 100 }) : d;
      },
    };
    repository = new MemoryRequestRepository();
    const log = createLogger({ level: 'silent' });
    workflow = new RequestWorkflow({
      repository,
      identity,
      ticketing: new LocalTicketing({ file: join(dir.path, 'tickets.jsonl'), baseUrl: 'http://localhost' }),
      audit: new JsonlAudit(join(dir.path, 'audit.jsonl')),
      notifier: new LogNotifier(log),
      hostKeys: new MemoryHostKeys(),
      documents: new MemoryDocuments(),
      destinations,
      secrets: buildSecrets({ env: {} }),
      policy: {
        assignmentGroups: ['DataOps'],
        savedDestinations: [{ name: 'Local outbox', spec: { protocol: 'local', root: join(dir.path, 'outbox'), folder: '/', label: 'Local outbox' } }],
        allowAdHoc: true,
        allowPlainFtp: false,
        autoLogoutSeconds: 1,
      },
      log,
    });
  });
  after(async () => {
    await workflow?.shutdown();
    await dir?.remove();
  });

  async function toDestination(key: string): Promise<string> {
    const form = await workflow.startRequest(alice, {});
    const id = (form as Extract<Screen, { kind: 'requestForm' }>).requestId;
    await workflow.submitRequest(alice, id, FORM);
    await workflow.continueSignIn(alice, id);
    await workflow.pickBucket(alice, id, 'sample-bucket');
    await workflow.openFolder(alice, id, key.slice(0, key.lastIndexOf('/') + 1));
    await workflow.pickFile(alice, id, key);
    return id;
  }

  it('wipes the sign-in session N seconds after the transfer starts; the transfer keeps running; no second sign-in', async () => {
    stall = true;
    try {
      const id = await toDestination('exports/blob.bin');
      await workflow.submitDestination(alice, id, { savedDestination: 'Local outbox', overwrite: 'fail' });
      const before = signedOut.length;
      const started = await workflow.confirmTransfer(alice, id);
      assert.equal(started.screen.kind, 'progress');
      await refusedWith(workflow.pickBucket(alice, id, 'sample-bucket'), 'CARD_INACTIVE');
      for (let i = 0; i < 100 && signedOut.length === before; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(signedOut.length, before + 1, 'signed out by auto-logout');
      assert.equal(signedOut.at(-1)!.requestId, id);
      assert.equal((await repository.get(id))!.state, 'transferring', 'the transfer still runs after the logout');
      await refusedWith(workflow.continueSignIn(alice, id), 'CARD_INACTIVE');
      const cancelling = await workflow.cancel(alice, id);
      assert.equal(cancelling.screen.kind, 'cancelling', 'Cancel is answered before the engine has stopped');
      for (let i = 0; i < 200 && (await repository.get(id))!.state === 'transferring'; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal((await repository.get(id))!.state, 'cancelled');
      assert.equal((await repository.get(id))!.failure?.code, 'CANCELLED');
      await refusedWith(workflow.retry(alice, id), 'CARD_INACTIVE');
    } finally {
      stall = false;
    }
  });

  it('keeps a typed password out of the stored record', async () => {
    const id = await toDestination('reports/q1-sales.csv');
    const password = 'Typed-Secret-123';
    const result = await workflow.submitDestination(alice, id, {
      savedDestination: 'adhoc', protocol: 'ftps', host: 'ftp.example.com', port: '', username: 'bob', password, remoteFolder: '/in', overwrite: 'fail',
    });
    assert.equal(result.screen.kind, 'confirm');
    const stored = JSON.stringify(await repository.get(id));
    assert.ok(!stored.includes(password));
    assert.match(stored, /ftps:\/\/bob@ftp\.example\.com:21/);
    assert.ok(!JSON.stringify(result).includes(password));
    await workflow.cancel(alice, id);
  });

  it('lists history newest first and status by ID only for the owner', async () => {
    const history = await workflow.history(alice);
    assert.equal(history.kind, 'requestList');
    const ids = (history as Extract<Screen, { kind: 'requestList' }>).requests.map((r) => r.id);
    assert.ok(ids.length >= 2);
    await refusedWith(workflow.status({ ...alice, userId: 'someone-else' }, ids[0]!), 'NOT_YOURS');
    await refusedWith(workflow.status(alice, 'FF-NOTAREAL'), 'CARD_INACTIVE');
  });

  it('expires requests left unfinished, wiping their session and failing their tickets', async () => {
    const id = await toDestination('reports/q1-sales.csv');
    const old = (await repository.get(id))!;
    old.updatedAt = new Date(Date.now() - 2 * 3600_000).toISOString();
    await repository.put(old);
    const before = signedOut.length;
    assert.ok((await workflow.expireStale()) >= 1);
    assert.equal((await repository.get(id))!.state, 'expired');
    assert.equal(signedOut.length, before + 1);
    await refusedWith(workflow.submitDestination(alice, id, { savedDestination: 'Local outbox' }), 'CARD_INACTIVE');
  });
});
