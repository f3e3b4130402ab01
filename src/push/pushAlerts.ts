import { createHash } from 'node:crypto';
import { StoreError } from '../domain/errors';
import type { AuditEvent, AuditLog } from '../ports/auditLog';
import type { DocumentStore, StoredDocument } from '../ports/documentStore';
import type { Incidents } from '../ports/incidents';
import type { Notifier } from '../ports/notifier';
import type { WorkflowLog } from '../ports/workflowLog';
import type { ClaimLedger } from './claimLedger';
import type { PushObjectRecord } from './pushRecord';
import type { PushRule } from './pushRules';
import { DAY_NAMES, minutesOf } from './sendWindow';

const CHECKS = 'push.checks';

export interface PushAlertsDeps {
  ledger: ClaimLedger;
  documents: DocumentStore;
  notifier: Notifier;
  incidents?: Incidents;
  audit: (event: AuditEvent) => Promise<void>;
  log: WorkflowLog;
}

/**
 * What push mode tells people: one alert card and one incident for an object's final failure
 * (each written into the ledger once done, so a restart neither skips nor repeats them), the same
 * alert for a missed expectation, the per-file card (`notify: each`) and the daily digest. Each
 * check of a day is a create-only document, so two processes never send it twice.
 */
export class PushAlerts {
  constructor(private readonly deps: PushAlertsDeps) {}

  /** Alert, then incident, each at most once per object; throws if the incident cannot be opened yet (retried later). */
  async finalFailure(doc: StoredDocument<PushObjectRecord>, rule: PushRule | undefined): Promise<StoredDocument<PushObjectRecord>> {
    const r = doc.body;
    const error = r.lastError;
    const what = `${r.scheme}://${r.container}/${r.key}`;
    if (!r.alerted) {
      await this.deps.notifier.notify({
        title: `Push failed: ${r.key}`,
        text: `FileFerry could not send ${what} (rule ${r.rule}) after ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}: ${error?.message ?? 'unknown error'}${error?.hint ? ` ${error.hint}` : ''}`,
        requestId: doc.id,
        facts: { rule: r.rule, object: what, attempts: String(r.attempts), code: error?.code ?? 'INTERNAL', ...(rule ? { destination: rule.destination.name } : {}) },
      });
      doc = await this.deps.ledger.update(doc, { alerted: true });
      await this.deps.audit({ type: 'push.alerted', actor: 'system', requestId: doc.id, details: { rule: r.rule, key: r.key } });
    }
    if (!doc.body.incident && this.deps.incidents) {
      const incident = await this.deps.incidents.open({
        // Ledger ids hold any key; ticket systems want short plain ids.
        correlationId: `ffpush-${createHash('sha256').update(doc.id).digest('hex').slice(0, 32)}`,
        summary: `FileFerry push failed: ${r.key} (rule ${r.rule})`,
        description: [
          `Object: ${what}${r.versionId ? ` (version ${r.versionId})` : r.etag ? ` (ETag ${r.etag})` : ''}`,
          `Rule: ${r.rule}${rule ? `, destination ${rule.destination.name}` : ''}`,
          `Attempts: ${r.attempts}`,
          `Error: ${error?.code ?? 'INTERNAL'}: ${error?.message ?? ''}`,
          ...(error?.hint ? [`What to do: ${error.hint}`] : []),
          `Send it again once fixed: fileferry push retry '${doc.id}'`,
        ].join('\n'),
        priority: '2',
      });
      doc = await this.deps.ledger.update(doc, { incident: { number: incident.number, ...(incident.url ? { url: incident.url } : {}) } });
      await this.deps.audit({ type: 'push.incident', actor: 'system', requestId: doc.id, details: { rule: r.rule, key: r.key, incident: incident.number } });
    }
    return doc;
  }

  async sentCard(doc: StoredDocument<PushObjectRecord>): Promise<void> {
    const r = doc.body;
    await this.deps.notifier.notify({
      title: `Pushed: ${r.key}`,
      text: `${r.scheme}://${r.container}/${r.key} reached ${r.remotePath} (rule ${r.rule}).`,
      requestId: doc.id,
      facts: { rule: r.rule, bytes: String(r.bytes ?? 0), sha256: r.sha256 ?? '', verification: r.verification ?? '', ...(r.plaintextSha256 ? { plaintextSha256: r.plaintextSha256 } : {}) },
    });
  }

  /** Expectations due by `now` and digests of yesterday; each at most once per rule and day. */
  async daily(rules: PushRule[], now: Date): Promise<void> {
    const today = now.toISOString().slice(0, 10);
    const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
    for (const rule of rules) {
      const e = rule.expect;
      if (e && e.days.includes(DAY_NAMES[now.getUTCDay()]!) && minute >= minutesOf(e.by) && (await this.once(`expect/${rule.name}/${today}`))) {
        const seen = (await this.deps.ledger.day(rule.name, today)).seen;
        if (seen < e.atLeast) {
          await this.deps.notifier.notify({
            title: `Expected file missing: rule ${rule.name}`,
            text: `Rule ${rule.name} expected at least ${e.atLeast} file${e.atLeast === 1 ? '' : 's'} in ${rule.source} by ${e.by} UTC today (${today}); ${seen} arrived.`,
            facts: { rule: rule.name, expected: String(e.atLeast), arrived: String(seen), by: `${e.by} UTC` },
          });
          await this.deps.audit({ type: 'push.expectation-missed', actor: 'system', details: { rule: rule.name, date: today, expected: e.atLeast, arrived: seen } });
          // Kept with the day's counts, so the digest of the day tells it too.
          await this.deps.ledger.count(rule.name, now.toISOString(), { late: 1 });
        }
      }
      if (rule.notify === 'digest') {
        const yesterday = new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
        const counts = await this.deps.ledger.day(rule.name, yesterday);
        const late = counts.late ?? 0;
        if (counts.seen + counts.sent + counts.failed + late > 0 && (await this.once(`digest/${rule.name}/${yesterday}`))) {
          const missed = late && e ? ` Expectation missed: fewer than ${e.atLeast} file${e.atLeast === 1 ? '' : 's'} by ${e.by} UTC.` : late ? ' Expectation missed.' : '';
          await this.deps.notifier.notify({
            title: `Push digest ${yesterday}: rule ${rule.name}`,
            text: `${counts.sent} file${counts.sent === 1 ? '' : 's'} sent (${counts.bytes} bytes), ${counts.failed} failed, ${counts.seen} arrived.${missed}`,
            facts: { rule: rule.name, sent: String(counts.sent), bytes: String(counts.bytes), failed: String(counts.failed), arrived: String(counts.seen), lateExpectations: String(late) },
          });
          await this.deps.audit({ type: 'push.digest', actor: 'system', details: { rule: rule.name, date: yesterday, sent: counts.sent, bytes: counts.bytes, failed: counts.failed, arrived: counts.seen, late } });
        }
      }
    }
  }

  /** True for the first caller only (create-only document). */
  private async once(id: string): Promise<boolean> {
    try {
      await this.deps.documents.put(CHECKS, id, { at: new Date().toISOString() }, { ifVersion: 0, expiresAt: new Date(Date.now() + 40 * 86_400_000) });
      return true;
    } catch (e) {
      if (e instanceof StoreError && e.code === 'CONFLICT') return false;
      throw e;
    }
  }
}
