import { randomBytes } from 'node:crypto';
import { FerryError, StoreError, TransferError } from '../domain/errors';
import type { AuditEvent, AuditLog } from '../ports/auditLog';
import type { DocumentStore, StoredDocument } from '../ports/documentStore';
import type { Incidents } from '../ports/incidents';
import type { Notifier } from '../ports/notifier';
import type { ObjectEvent } from '../ports/objectEvents';
import type { PushEngine, PushSend, PushSent } from '../ports/pushEngine';
import type { StorageSource } from '../ports/storageSource';
import type { WorkflowLog } from '../ports/workflowLog';
import { backoffDelay } from '../transfer/backoff';
import { basename, checkRemotePath, dirname, joinRemote } from '../transfer/remotePath';
import { ClaimLedger } from './claimLedger';
import { renderTemplate } from './folderTemplate';
import { matchObject } from './objectMatch';
import { canCheckLanded, type PushListener } from './pushAbilities';
import { PushAlerts } from './pushAlerts';
import { FINISHED_STATES, type PushObjectRecord, type SeenObject } from './pushRecord';
import type { PushRule, PushSettings } from './pushRules';
import { retryFailed } from './retryFailed';
import { nextOpening, windowOpen } from './sendWindow';

export interface PushRunnerDeps {
  rules: PushRule[];
  settings: PushSettings;
  documents: DocumentStore;
  /** The source a rule reads, with the service's own identity. */
  sourceFor: (rule: PushRule) => StorageSource;
  engineFor: (rule: PushRule) => PushEngine;
  /** The saved destination's folder, for rules without a folder template. */
  destinationFolder: (rule: PushRule) => string;
  audit: AuditLog;
  notifier: Notifier;
  incidents?: Incidents;
  log: WorkflowLog;
  listener?: PushListener;
  /** Who holds claims: unique per process. */
  instanceId?: string;
  now?: () => Date;
  random?: () => number;
}

/**
 * Push mode's runner: events in → recorded in the claim ledger (then the trigger may ack) →
 * stability wait (re-stat: size and ETag unchanged for `stability` seconds; a newer version
 * supersedes the old one, so only the final version is sent, once) → send window → claim (a
 * conditional put) → engine → completion written after verification. Limits in flight are global
 * and per destination; the rest wait in the ledger's queue, read in pages. Failures are retried
 * with exponential backoff and jitter; the last one marks the object failed, alerts once and opens
 * one incident. Every step is an audit record.
 */
export class PushRunner {
  readonly ledger: ClaimLedger;
  private readonly alerts: PushAlerts;
  private readonly rules: Map<string, PushRule>;
  private readonly me: string;
  private readonly now: () => Date;
  private readonly active = new Map<string, { destination: string; controller: AbortController; done: Promise<void> }>();
  private readonly perDestination = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private again = false;
  private stopping = false;
  private queued = 0;

  constructor(private readonly deps: PushRunnerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.ledger = new ClaimLedger(deps.documents, this.now);
    this.rules = new Map(deps.rules.map((r) => [r.name, r]));
    this.me = deps.instanceId ?? `push-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.alerts = new PushAlerts({ ledger: this.ledger, documents: deps.documents, notifier: deps.notifier, incidents: deps.incidents, audit: (e) => this.audit(e), log: deps.log });
    for (const rule of deps.rules) {
      const limit = this.perDestination.get(rule.destination.name);
      this.perDestination.set(rule.destination.name, Math.min(limit ?? Infinity, rule.destination.connections));
    }
  }

  /** Objects in the queue at the last full scan (waiting for stability, a window, a retry or a slot). */
  get waiting(): number {
    return this.queued;
  }

  get inFlight(): number {
    return this.active.size;
  }

  /** Starts the scans; claims a dead process left are taken over once their lease runs out. */
  start(): void {
    this.stopping = false;
    this.timer = setInterval(() => this.kick(), this.deps.settings.scanSeconds * 1000);
    this.timer.unref();
    this.kick();
  }

  /** Stops scanning, cancels sends in flight (their claims are released) and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    for (const a of this.active.values()) a.controller.abort();
    await Promise.all([...this.active.values()].map((a) => a.done));
  }

  /** The ObjectEventTrigger handler: resolves once the event is durably in the ledger. */
  handle = async (event: ObjectEvent): Promise<void> => {
    for (const rule of this.deps.rules) {
      const { place } = rule;
      if (place.scheme !== event.scheme || place.container !== event.container || !event.key.startsWith(place.prefix)) continue;
      const verdict = matchObject(rule.match, event.key.slice(place.prefix.length), event.size);
      if (!verdict.ok) {
        this.deps.log.debug({ rule: rule.name, key: event.key, reason: verdict.reason }, 'push: object does not match the rule');
        continue;
      }
      let seen: SeenObject = {
        scheme: event.scheme, container: event.container, key: event.key, via: event.via,
        versionId: event.versionId, etag: event.etag, size: event.size, eventTime: event.eventTime, sequencer: event.sequencer,
      };
      if (!seen.etag && !seen.versionId) {
        // Without a version there is nothing to key exactly-once by: ask the source.
        const stat = await this.deps.sourceFor(rule).stat(event.container, event.key).catch((e: unknown) => {
          if (e instanceof FerryError && e.code === 'NOT_FOUND') return undefined;
          throw e;
        });
        if (!stat) continue;
        seen = { ...seen, etag: stat.etag, versionId: stat.versionId, size: stat.size, lastModified: stat.lastModified?.toISOString() };
      }
      const notBefore = new Date(this.now().getTime() + rule.stability * 1000);
      const { id, created } = await this.ledger.recordSeen(rule.name, seen, notBefore);
      if (created) {
        this.deps.listener?.pushSeen(rule.name);
        await this.audit({ type: 'push.seen', actor: 'system', requestId: id, details: { rule: rule.name, container: event.container, key: event.key, via: event.via, version: seen.versionId ?? seen.etag ?? null, size: seen.size ?? null } });
      }
      if (rule.stability === 0) this.kick();
    }
  };

  /** An operator's `push retry` in this process. */
  async retry(id: string, actor = 'operator'): Promise<PushObjectRecord> {
    const record = await retryFailed(this.ledger, this.deps.audit, id, actor, this.now());
    this.kick();
    return record;
  }

  /** Looks at the queue now (after an event, a finished send, or the scan timer). */
  kick(): void {
    if (this.stopping) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    this.tick()
      .catch((e: unknown) => this.deps.log.error({ err: (e as Error)?.message }, 'push: queue scan failed'))
      .finally(() => {
        this.ticking = false;
        if (this.again) {
          this.again = false;
          setImmediate(() => this.kick());
        }
      });
  }

  private async tick(): Promise<void> {
    const now = this.now();
    let after: string | undefined;
    let count = 0;
    let complete = true;
    scan: for (;;) {
      const page = await this.ledger.queuePage(after);
      for (const entry of page) {
        count++;
        if (this.active.size >= this.deps.settings.maxInFlight) {
          complete = false;
          break scan;
        }
        if (this.active.has(entry.id) || Date.parse(entry.body.notBefore) > now.getTime()) continue;
        const rule = this.rules.get(entry.body.rule);
        if (!rule) continue;
        const destination = rule.destination.name;
        if (this.running(destination) >= (this.perDestination.get(destination) ?? Infinity)) continue;
        this.launch(entry.id, rule);
      }
      if (page.length < 100) break;
      after = page[page.length - 1]!.id;
    }
    if (complete) this.queued = count;
    await this.alerts.daily(this.deps.rules, now);
  }

  private running(destination: string): number {
    let n = 0;
    for (const a of this.active.values()) if (a.destination === destination) n++;
    return n;
  }

  private launch(id: string, rule: PushRule): void {
    const controller = new AbortController();
    const done = this.process(id, rule, controller.signal)
      .catch((e: unknown) => this.deps.log.error({ id, err: (e as Error)?.message }, 'push: processing an object failed; it stays queued'))
      .finally(() => {
        this.active.delete(id);
        this.kick();
      });
    this.active.set(id, { destination: rule.destination.name, controller, done });
  }

  private async process(id: string, rule: PushRule, signal: AbortSignal): Promise<void> {
    let doc = await this.ledger.get(id);
    if (!doc) return this.ledger.dequeue(id);
    const r = doc.body;
    if (FINISHED_STATES.has(r.state)) {
      if (r.state === 'failed') await this.followUp(doc, rule);
      return this.ledger.dequeue(id);
    }
    const now = this.now();
    if (r.state === 'claimed' && r.claimedBy !== this.me && r.leaseUntil && Date.parse(r.leaseUntil) > now.getTime()) {
      await this.ledger.enqueue(id, rule.name, new Date(r.leaseUntil));
      return;
    }
    const resumed = r.state === 'claimed';
    if (r.state === 'seen') {
      const stable = await this.stabilise(doc, rule, signal);
      if (!stable) return;
      doc = stable;
    }
    if (!windowOpen(rule.window, now)) {
      const opens = nextOpening(rule.window, now);
      await this.ledger.enqueue(id, rule.name, opens);
      await this.audit({ type: 'push.held', actor: 'system', requestId: id, details: { rule: rule.name, key: r.key, until: opens.toISOString() } });
      return;
    }
    const leaseMs = this.deps.settings.leaseSeconds * 1000;
    try {
      doc = await this.ledger.claim(doc, this.me, new Date(now.getTime() + leaseMs));
    } catch (e) {
      if (e instanceof StoreError && e.code === 'CONFLICT') return; // another process claimed it first
      throw e;
    }
    await this.audit({ type: 'push.claimed', actor: 'system', requestId: id, details: { rule: rule.name, key: r.key, attempt: doc.body.attempts, resumed, by: this.me } });
    await this.send(doc, rule, resumed, signal);
  }

  /** Seen → stable when the source still holds the same version; otherwise superseded, gone or skipped. */
  private async stabilise(doc: StoredDocument<PushObjectRecord>, rule: PushRule, signal: AbortSignal): Promise<StoredDocument<PushObjectRecord> | undefined> {
    const r = doc.body;
    let stat;
    try {
      stat = await this.deps.sourceFor(rule).stat(r.container, r.key, signal);
    } catch (e) {
      if (e instanceof FerryError && e.code === 'NOT_FOUND') {
        await this.finish(doc, { state: 'gone', note: 'deleted before it was sent' }, 'push.gone');
        return undefined;
      }
      const delay = backoffDelay(1, this.deps.settings.retryBaseSeconds * 1000, this.deps.settings.retryMaxSeconds * 1000, this.deps.random);
      await this.ledger.enqueue(doc.id, rule.name, new Date(this.now().getTime() + delay));
      this.deps.log.warn({ id: doc.id, err: (e as Error)?.message }, 'push: the stability check could not reach the source; trying again');
      return undefined;
    }
    const changed = (r.versionId !== undefined && stat.versionId !== r.versionId) || (r.versionId === undefined && r.etag !== undefined && bare(stat.etag) !== bare(r.etag)) || (r.size !== undefined && stat.size !== r.size);
    if (changed) {
      // The object was overwritten during the wait: only its newest version goes, after its own wait.
      const newer: SeenObject = { scheme: r.scheme, container: r.container, key: r.key, versionId: stat.versionId, etag: stat.etag, size: stat.size, lastModified: stat.lastModified?.toISOString(), via: 'stat' };
      const next = await this.ledger.recordSeen(rule.name, newer, new Date(this.now().getTime() + rule.stability * 1000));
      if (next.created) this.deps.listener?.pushSeen(rule.name);
      await this.finish(doc, { state: 'superseded', note: `replaced by ${stat.versionId ?? stat.etag} during the stability wait` }, 'push.superseded', { by: next.id });
      return undefined;
    }
    const verdict = matchObject(rule.match, r.key.slice(rule.place.prefix.length), stat.size);
    if (!verdict.ok) {
      await this.finish(doc, { state: 'skipped', note: verdict.reason }, 'push.skipped', { reason: verdict.reason });
      return undefined;
    }
    const stable = await this.ledger.update(doc, { state: 'stable', stableAt: this.now().toISOString(), size: stat.size, etag: stat.etag ?? r.etag, lastModified: stat.lastModified?.toISOString() ?? r.lastModified });
    await this.audit({ type: 'push.stable', actor: 'system', requestId: doc.id, details: { rule: rule.name, key: r.key, size: stat.size } });
    return stable;
  }

  private async send(claimed: StoredDocument<PushObjectRecord>, rule: PushRule, resumed: boolean, signal: AbortSignal): Promise<void> {
    let doc = claimed;
    const r = doc.body;
    const leaseMs = this.deps.settings.leaseSeconds * 1000;
    const sendAbort = new AbortController();
    const onStop = (): void => sendAbort.abort();
    signal.addEventListener('abort', onStop, { once: true });
    // Renews the claim while the engine works; a lost renewal means another process took it over.
    let renewing = Promise.resolve();
    const renewal = setInterval(() => {
      renewing = renewing.then(async () => {
        try {
          doc = await this.ledger.update(doc, { leaseUntil: new Date(this.now().getTime() + leaseMs).toISOString() });
        } catch (e) {
          if (e instanceof StoreError && e.code === 'CONFLICT') sendAbort.abort();
        }
      });
    }, Math.max(50, leaseMs / 3));
    const job = this.jobFor(r, rule, sendAbort.signal);
    let sent: PushSent | undefined;
    let failure: FerryError | undefined;
    try {
      const engine = this.deps.engineFor(rule);
      if (resumed && canCheckLanded(engine)) sent = await engine.landed(job);
      sent ??= await engine.send(job);
    } catch (e) {
      failure = asFerryError(e, sendAbort.signal);
    } finally {
      clearInterval(renewal);
      signal.removeEventListener('abort', onStop);
      await renewing;
    }
    if (sent) return this.recordSent(doc, rule, job, sent);
    if (signal.aborted) {
      // Stopped by shutdown: release the claim without spending an attempt.
      await this.ledger.update(doc, { state: 'stable', attempts: Math.max(0, doc.body.attempts - 1), claimedBy: undefined, leaseUntil: undefined });
      await this.ledger.enqueue(doc.id, rule.name, this.now());
      return;
    }
    const error = failure!;
    const last = !error.retryable || doc.body.attempts > rule.retries;
    const lastError = { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
    if (!last) {
      const retryInMs = backoffDelay(doc.body.attempts, this.deps.settings.retryBaseSeconds * 1000, this.deps.settings.retryMaxSeconds * 1000, this.deps.random);
      doc = await this.ledger.update(doc, { state: 'stable', lastError, claimedBy: undefined, leaseUntil: undefined });
      await this.ledger.enqueue(doc.id, rule.name, new Date(this.now().getTime() + retryInMs));
      await this.audit({ type: 'push.attempt-failed', actor: 'system', requestId: doc.id, details: { rule: rule.name, key: r.key, attempt: doc.body.attempts, code: error.code, message: error.message, retryInMs } });
      return;
    }
    doc = await this.ledger.update(doc, { state: 'failed', failedAt: this.now().toISOString(), lastError, claimedBy: undefined, leaseUntil: undefined });
    await this.audit({ type: 'push.failed', actor: 'system', requestId: doc.id, details: { rule: rule.name, key: r.key, attempts: doc.body.attempts, code: error.code, message: error.message } });
    this.deps.listener?.pushFailed(rule.name);
    await this.ledger.count(rule.name, this.now().toISOString(), { failed: 1 });
    await this.followUp(doc, rule);
    await this.ledger.dequeue(doc.id);
  }

  private async recordSent(doc: StoredDocument<PushObjectRecord>, rule: PushRule, job: PushSend, sent: PushSent): Promise<void> {
    const at = this.now();
    const remotePath = joinRemote(job.remoteFolder, job.remoteName);
    const plaintext = (sent as PushSent & { plaintextSha256?: string }).plaintextSha256;
    doc = await this.ledger.update(doc, {
      state: 'sent', sentAt: at.toISOString(), bytes: sent.bytes, sha256: sent.sha256, verification: sent.verification, reference: sent.reference,
      remotePath: (sent as PushSent & { finalPath?: string }).finalPath ?? remotePath, plaintextSha256: plaintext, claimedBy: undefined, leaseUntil: undefined, lastError: undefined,
    });
    await this.ledger.dequeue(doc.id);
    const r = doc.body;
    await this.audit({
      type: 'push.sent', actor: 'system', requestId: doc.id,
      details: { rule: rule.name, key: r.key, remotePath: r.remotePath ?? remotePath, bytes: sent.bytes, sha256: sent.sha256 ?? null, verification: sent.verification, attempts: r.attempts, ...(plaintext ? { plaintextSha256: plaintext } : {}), ...(sent.reference ? { reference: sent.reference } : {}) },
    });
    const arrived = Date.parse(r.eventTime ?? r.seenAt);
    this.deps.listener?.pushSent(rule.name, sent.bytes, Math.max(0, (at.getTime() - arrived) / 1000));
    await this.ledger.count(rule.name, at.toISOString(), { sent: 1, bytes: sent.bytes });
    if (rule.notify === 'each') await this.alerts.sentCard(doc);
  }

  private jobFor(r: PushObjectRecord, rule: PushRule, signal: AbortSignal): PushSend {
    const relativeKey = r.key.slice(rule.place.prefix.length);
    const template = rule.destination.folder ?? joinRemote(this.deps.destinationFolder(rule), '{key}');
    const path = checkRemotePath(renderTemplate(template, { relativeKey, rule: rule.name, seenAt: new Date(r.seenAt) }), `push rule "${rule.name}" destination path`);
    return {
      ruleName: rule.name,
      object: { container: r.container, key: r.key, size: r.size ?? 0, ...(r.etag ? { etag: r.etag } : {}), ...(r.versionId ? { versionId: r.versionId } : {}), ...(r.lastModified ? { lastModified: new Date(r.lastModified) } : {}) },
      remoteFolder: dirname(path),
      remoteName: basename(path),
      signal,
    };
  }

  /** Alert and incident for a failed object; an incident that cannot be opened now is tried again later. */
  private async followUp(doc: StoredDocument<PushObjectRecord>, rule: PushRule): Promise<void> {
    try {
      await this.alerts.finalFailure(doc, rule);
    } catch (e) {
      const delay = backoffDelay(2, this.deps.settings.retryBaseSeconds * 1000, this.deps.settings.retryMaxSeconds * 1000, this.deps.random);
      await this.ledger.enqueue(doc.id, rule.name, new Date(this.now().getTime() + delay));
      this.deps.log.error({ id: doc.id, err: (e as Error)?.message }, 'push: the failure alert or incident could not be raised yet; trying again');
      throw e;
    }
  }

  private async finish(doc: StoredDocument<PushObjectRecord>, patch: Partial<PushObjectRecord>, type: string, details: Record<string, string> = {}): Promise<void> {
    await this.ledger.update(doc, patch);
    await this.ledger.dequeue(doc.id);
    await this.audit({ type, actor: 'system', requestId: doc.id, details: { rule: doc.body.rule, key: doc.body.key, ...details } });
  }

  /** Audit is best effort here: the ledger, not the audit chain, is what exactly-once rests on. */
  private async audit(event: AuditEvent): Promise<void> {
    try {
      await this.deps.audit.append(event);
    } catch (e) {
      this.deps.log.error({ event: event.type, err: (e as Error)?.message }, 'push: an audit record could not be written');
    }
  }
}

/** ETags compare without the quotes some services keep. */
const bare = (etag: string | undefined): string | undefined => etag?.replace(/"/g, '');

function asFerryError(e: unknown, signal: AbortSignal): FerryError {
  if (e instanceof FerryError) return e;
  if (signal.aborted) return new TransferError('CANCELLED', 'The send was stopped.');
  return new TransferError('INTERNAL', `Unexpected failure: ${(e as Error)?.message ?? String(e)}`, { hint: 'Report this with the object id; the log has the detail.' });
}
