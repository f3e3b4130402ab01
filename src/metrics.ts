import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecord } from './domain/requestRecord';
import type { TransferEnding } from './workflow/requestEnding';
import type { TransferListener } from './workflow/workflowContext';

/**
 * Prometheus metrics for /metrics, in a registry of their own (so several servers in one test
 * process do not collide): transfers by outcome, bytes moved, transfer duration, and the transfers
 * running now, plus Node's default process metrics.
 */
export class Metrics implements TransferListener {
  readonly registry = new Registry();
  private readonly transfers: Counter<'outcome'>;
  private readonly bytes: Counter;
  private readonly duration: Histogram<'outcome'>;

  constructor(activeTransfers: () => number) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'fileferry_process_' });
    this.transfers = new Counter({ name: 'fileferry_transfers_total', help: 'Transfers finished, by outcome (completed, failed, cancelled).', labelNames: ['outcome'], registers });
    this.bytes = new Counter({ name: 'fileferry_transfer_bytes_total', help: 'Bytes delivered by completed transfers.', registers });
    this.duration = new Histogram({
      name: 'fileferry_transfer_duration_seconds',
      help: 'Wall time of transfers from start to end, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    new Gauge({
      name: 'fileferry_active_transfers',
      help: 'Transfers running now.',
      registers,
      collect() {
        this.set(activeTransfers());
      },
    });
    for (const outcome of ['completed', 'failed', 'cancelled']) {
      this.transfers.inc({ outcome }, 0);
    }
  }

  onFinished(record: RequestRecord, ending: TransferEnding): void {
    const outcome = ending.kind === 'completed' ? 'completed' : ending.cancelled ? 'cancelled' : 'failed';
    this.transfers.inc({ outcome });
    if (ending.kind === 'completed') this.bytes.inc(ending.result.bytes);
    const started = record.transfer?.startedAt ? Date.parse(record.transfer.startedAt) : NaN;
    const seconds = ending.kind === 'completed' ? ending.result.seconds : (Date.now() - started) / 1000;
    if (Number.isFinite(seconds) && seconds >= 0) this.duration.observe({ outcome }, seconds);
  }

  // Push mode (src/push/pushAbilities.ts PushListener): created on first use, so a bot without
  // push rules shows no push series.
  private push?: { seen: Counter<'rule'>; sent: Counter<'rule'>; failed: Counter<'rule'>; bytes: Counter<'rule'>; lag: Histogram<'rule'> };
  private pushWaiting: () => number = () => 0;

  /** The objects push mode has waiting (its queue at the last scan), for the waiting gauge. */
  watchPush(waiting: () => number): void {
    this.pushWaiting = waiting;
    this.pushMetrics();
  }

  pushSeen(rule: string): void {
    this.pushMetrics().seen.inc({ rule });
  }

  pushSent(rule: string, bytes: number, lagSeconds: number): void {
    const m = this.pushMetrics();
    m.sent.inc({ rule });
    m.bytes.inc({ rule }, bytes);
    m.lag.observe({ rule }, lagSeconds);
  }

  pushFailed(rule: string): void {
    this.pushMetrics().failed.inc({ rule });
  }

  private pushMetrics() {
    if (this.push) return this.push;
    const registers = [this.registry];
    const waiting = () => this.pushWaiting();
    new Gauge({ name: 'fileferry_push_waiting', help: 'Push objects waiting (stability, window, retry or a free slot).', registers, collect() { this.set(waiting()); } });
    this.push = {
      seen: new Counter({ name: 'fileferry_push_seen_total', help: 'Objects push rules recorded, by rule.', labelNames: ['rule'], registers }),
      sent: new Counter({ name: 'fileferry_push_sent_total', help: 'Objects push mode sent and verified, by rule.', labelNames: ['rule'], registers }),
      failed: new Counter({ name: 'fileferry_push_failed_total', help: 'Objects that failed after their last retry, by rule.', labelNames: ['rule'], registers }),
      bytes: new Counter({ name: 'fileferry_push_bytes_total', help: 'Bytes push mode delivered, by rule.', labelNames: ['rule'], registers }),
      lag: new Histogram({ name: 'fileferry_push_lag_seconds', help: 'From arrival (event time, or when first seen) to sent, by rule.', labelNames: ['rule'], buckets: [1, 5, 15, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600], registers }),
    };
    return this.push;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
