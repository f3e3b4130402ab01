import { StoreError } from '../domain/errors';
import type { DocumentStore, StoredDocument } from '../ports/documentStore';
import { FINISHED_STATES, type DayCounts, type PushObjectRecord, type QueueEntry, type SeenObject } from './pushRecord';

export const OBJECTS = 'push.objects';
export const QUEUE = 'push.queue';
export const DAYS = 'push.days';
const PAGE = 100;

/**
 * `rule/container/key/version`, each part percent-encoded, so ids sort by rule, then container and key.
 * The ETag is taken without quotes: S3 events carry it bare, ListObjects and HeadObject quoted, and
 * one object reported both ways must be one record (else a replay through the other path sends it again).
 */
export function objectId(rule: string, o: Pick<SeenObject, 'container' | 'key' | 'versionId' | 'etag'>): string {
  const etag = o.etag?.replace(/"/g, '');
  const version = o.versionId ? `v:${o.versionId}` : etag ? `e:${etag}` : '-';
  return [rule, o.container, o.key, version].map(encodeURIComponent).join('/');
}

export function ruleOfId(id: string): string {
  return decodeURIComponent(id.slice(0, id.indexOf('/')));
}

/**
 * The exactly-once ledger of push mode, on the DocumentStore port. A record is created with a
 * conditional put (create only), so a replayed event changes nothing; a claim is a conditional put
 * on the version read, so of two claimers one wins and the other gets CONFLICT; a completion is
 * written only after the engine verified the file. The queue (unfinished objects only) is read
 * in pages, never held whole in memory.
 */
export class ClaimLedger {
  constructor(private readonly docs: DocumentStore, private readonly now: () => Date = () => new Date()) {}

  /**
   * Records an object a trigger reported; resolves once it is durable. Returns whether it was new.
   * A replay of a known object re-queues it if it is unfinished (a crash between the two writes).
   */
  async recordSeen(rule: string, seen: SeenObject, notBefore: Date): Promise<{ id: string; created: boolean }> {
    const id = objectId(rule, seen);
    const at = this.now().toISOString();
    const record: PushObjectRecord = { ...strip(seen), rule, state: 'seen', attempts: 0, seenAt: at };
    try {
      await this.docs.put(OBJECTS, id, record, { ifVersion: 0 });
    } catch (e) {
      if (!(e instanceof StoreError && e.code === 'CONFLICT')) throw e;
      const existing = await this.docs.get<PushObjectRecord>(OBJECTS, id);
      if (existing && !FINISHED_STATES.has(existing.body.state) && !(await this.docs.get(QUEUE, id))) {
        await this.enqueue(id, rule, notBefore);
      }
      return { id, created: false };
    }
    await this.enqueue(id, rule, notBefore);
    await this.count(rule, at, { seen: 1 });
    return { id, created: true };
  }

  get(id: string): Promise<StoredDocument<PushObjectRecord> | undefined> {
    return this.docs.get<PushObjectRecord>(OBJECTS, id);
  }

  /** Replaces version `doc.version` with `body`; CONFLICT when someone else wrote in between. */
  async update(doc: StoredDocument<PushObjectRecord>, patch: Partial<PushObjectRecord>): Promise<StoredDocument<PushObjectRecord>> {
    const body = { ...doc.body, ...patch };
    for (const k of Object.keys(body) as (keyof PushObjectRecord)[]) if (body[k] === undefined) delete body[k];
    const version = await this.docs.put(OBJECTS, doc.id, body, { ifVersion: doc.version });
    return { ...doc, version, body, updatedAt: this.now().toISOString() };
  }

  /**
   * Claims the object for `by` until `leaseUntil`; the put is conditional on the version read, so
   * exactly one of several claimers wins (the others get StoreError CONFLICT and back off).
   */
  claim(doc: StoredDocument<PushObjectRecord>, by: string, leaseUntil: Date): Promise<StoredDocument<PushObjectRecord>> {
    const at = this.now().toISOString();
    return this.update(doc, { state: 'claimed', claimedBy: by, claimedAt: at, leaseUntil: leaseUntil.toISOString(), attempts: doc.body.attempts + 1 });
  }

  enqueue(id: string, rule: string, notBefore: Date): Promise<number> {
    return this.docs.put<QueueEntry>(QUEUE, id, { rule, notBefore: notBefore.toISOString() });
  }

  dequeue(id: string): Promise<void> {
    return this.docs.delete(QUEUE, id);
  }

  /** One page of the queue, in id order after `after`. */
  queuePage(after?: string, limit = PAGE): Promise<StoredDocument<QueueEntry>[]> {
    return this.docs.list<QueueEntry>(QUEUE, { ...(after !== undefined ? { after } : {}), limit });
  }

  /** Every record of `rule` (or of all rules), page by page. */
  async *records(rule?: string): AsyncGenerator<StoredDocument<PushObjectRecord>> {
    const prefix = rule === undefined ? '' : `${encodeURIComponent(rule)}/`;
    let after: string | undefined;
    for (;;) {
      const page = await this.docs.list<PushObjectRecord>(OBJECTS, { prefix, ...(after !== undefined ? { after } : {}), limit: PAGE });
      for (const doc of page) yield doc;
      if (page.length < PAGE) return;
      after = page[page.length - 1]!.id;
    }
  }

  /** Adds to the rule's counters for the UTC day of `at` (retried on a lost race). */
  async count(rule: string, at: string, add: Partial<DayCounts>): Promise<void> {
    const id = `${encodeURIComponent(rule)}/${at.slice(0, 10)}`;
    for (let i = 0; i < 20; i++) {
      const doc = await this.docs.get<DayCounts>(DAYS, id);
      const base = doc?.body ?? { seen: 0, sent: 0, failed: 0, bytes: 0 };
      const body: DayCounts = { seen: base.seen + (add.seen ?? 0), sent: base.sent + (add.sent ?? 0), failed: base.failed + (add.failed ?? 0), bytes: base.bytes + (add.bytes ?? 0), late: (base.late ?? 0) + (add.late ?? 0) };
      try {
        await this.docs.put(DAYS, id, body, { ifVersion: doc?.version ?? 0 });
        return;
      } catch (e) {
        if (!(e instanceof StoreError && e.code === 'CONFLICT')) throw e;
      }
    }
  }

  async day(rule: string, date: string): Promise<DayCounts> {
    const body = (await this.docs.get<DayCounts>(DAYS, `${encodeURIComponent(rule)}/${date}`))?.body;
    return { seen: 0, sent: 0, failed: 0, bytes: 0, late: 0, ...body };
  }
}

function strip(seen: SeenObject): SeenObject {
  const out = { ...seen };
  for (const k of Object.keys(out) as (keyof SeenObject)[]) if (out[k] === undefined) delete out[k];
  return out;
}
