import type { DocumentStore } from '../ports/documentStore';
import type { ObjectEventHandler, ObjectEventTrigger } from '../ports/objectEvents';
import type { ObjectInfo, StorageSource } from '../ports/storageSource';
import type { WorkflowLog } from '../ports/workflowLog';
import type { WatchedPlace } from './sourceUri';

export const CURSORS = 'push.cursors';

export interface PollTriggerOptions {
  /** Names the cursor (one per rule). */
  name: string;
  place: WatchedPlace;
  source: StorageSource;
  documents: DocumentStore;
  intervalSeconds: number;
  log: WorkflowLog;
  now?: () => Date;
}

/**
 * How far before the last scan's start a scan looks. LastModified comes from the server's clock
 * (and is whole seconds on S3), so an object written just after a scan began may be stamped before
 * it; without the look-back it would be neither fresh nor pending, and skipped for good.
 */
const LOOK_BACK_MS = 120_000;

/** The persisted cursor: where the last scan started, and what it saw change that is not yet reported. */
interface Cursor {
  /** Objects modified before this (less the look-back) were reported by an earlier scan. */
  since?: string;
  /** key → "size:etag" of objects seen by the last scan but not yet stable across two. */
  pending: Record<string, string>;
  /** key → "size:etag" of objects reported but still inside the look-back, so they are not reported again. */
  recent?: Record<string, string>;
}

/**
 * A trigger by scanning (ListObjectsV2, the Blob listing or a folder walk through the StorageSource
 * port) every N seconds: the only one for Azure and local folders. An object is reported once two
 * scans in a row see it with the same size and ETag (stability by two scans). The cursor (last
 * scan start and the objects still pending) is saved after each scan, once every report of the
 * scan was delivered; a crash re-scans from the saved cursor and replays, which the ledger absorbs.
 * Each scan looks back LOOK_BACK_MS before the last one began (the server's clock is not ours).
 */
export class PollTrigger implements ObjectEventTrigger {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Set by stop() to end a scan early; false before start() too, so a test may call scan() alone. */
  private stopped = false;
  private readonly now: () => Date;

  constructor(private readonly options: PollTriggerOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async start(onEvent: ObjectEventHandler): Promise<void> {
    this.stopped = false;
    // The first scan runs now, so a wrong container or permission fails start-up with its name.
    await this.scan(onEvent);
    const loop = (): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.scan(onEvent)
          .catch((e: unknown) => this.options.log.warn({ trigger: this.options.name, err: (e as Error)?.message }, 'push: a poll scan failed; the next one tries again'))
          .finally(loop);
      }, this.options.intervalSeconds * 1000);
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One scan; exported for tests that drive the clock themselves. */
  async scan(onEvent: ObjectEventHandler): Promise<void> {
    const { documents, name, place } = this.options;
    const started = this.now();
    const stored = await documents.get<Cursor>(CURSORS, name);
    const cursor: Cursor = stored?.body ?? { pending: {} };
    const since = cursor.since ? Date.parse(cursor.since) - LOOK_BACK_MS : -Infinity;
    // An object modified at or after this is fresh again in the next scan: remember it once reported.
    const nextLookBack = started.getTime() - LOOK_BACK_MS;
    const pending: Record<string, string> = {};
    const recent: Record<string, string> = {};
    for await (const object of this.walk()) {
      if (this.stopped) return;
      const signature = `${object.size}:${object.etag ?? ''}`;
      const modified = object.lastModified?.getTime();
      const fresh = modified === undefined || modified >= since;
      if (!fresh && cursor.pending[object.key] === undefined) continue;
      if (cursor.recent?.[object.key] === signature) {
        if (modified !== undefined && modified >= nextLookBack) recent[object.key] = signature;
        continue;
      }
      if (cursor.pending[object.key] === signature) {
        if (modified !== undefined && modified >= nextLookBack) recent[object.key] = signature;
        await onEvent({
          scheme: place.scheme, container: place.container, key: object.key, via: 'poll', size: object.size,
          ...(object.etag ? { etag: object.etag.replace(/"/g, '') } : {}),
          ...(object.versionId ? { versionId: object.versionId } : {}),
          ...(object.lastModified ? { eventTime: object.lastModified.toISOString() } : {}),
        });
      } else {
        pending[object.key] = signature;
      }
    }
    const next: Cursor = { since: started.toISOString(), pending, recent };
    if (stored) await documents.put(CURSORS, name, next, { ifVersion: stored.version });
    else await documents.put(CURSORS, name, next, { ifVersion: 0 });
  }

  /** Every object below the prefix, folder by folder, page by page. */
  private async *walk(): AsyncGenerator<ObjectInfo> {
    const { source, place } = this.options;
    const folders = [place.prefix];
    while (folders.length) {
      const prefix = folders.pop()!;
      let token: string | undefined;
      do {
        const page = await source.list(place.container, { prefix, pageSize: 1000, ...(token ? { token } : {}) });
        folders.push(...page.folders);
        for (const o of page.objects) yield o;
        token = page.nextToken;
      } while (token && !this.stopped);
    }
  }
}
