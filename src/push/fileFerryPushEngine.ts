import { createHash } from 'node:crypto';
import type { DestinationSpec } from '../domain/destinationSpec';
import type { Destination } from '../ports/destination';
import type { SecretStore } from '../ports/secretStore';
import type { TransferThreads } from '../transfer/thread/transferThreads';
import type { PgpEncryptor } from '../ports/pgp';
import type { PushEngine, PushSend, PushSent } from '../ports/pushEngine';
import type { StorageSource } from '../ports/storageSource';
import { runTransfer } from '../transfer/engine';
import { joinRemote, temporaryPathFor } from '../transfer/remotePath';
import type { OverwritePolicy, TransferRequest, TransferResult, TransferTuning } from '../transfer/types';
import { encryptedSend } from './encryptedSend';
import type { LandedCheck } from './pushAbilities';

export interface FileFerryPushEngineOptions {
  source: StorageSource;
  /** The rule's saved destination, opened by the destination factory. */
  destination: Destination;
  overwrite: OverwritePolicy;
  /** SSH connections per file, from the saved destination (striping); the engine's default when absent. */
  connections?: number;
  pgp?: { encryptor: PgpEncryptor; publicKey: string };
  tuning?: Partial<TransferTuning>;
  /**
   * Runs each send in a worker thread (the bot's, so push mode beside the bot does not hold up its
   * turns): the destination is opened there from `spec`, its secrets resolved by `secrets` here.
   * PGP sends run in this thread.
   */
  thread?: { threads: TransferThreads; spec: DestinationSpec; secrets: SecretStore };
  /** For tests. */
  runTransfer?: (request: TransferRequest) => Promise<TransferResult>;
}

/** What the FileFerry engine reports beyond the PushSent contract. */
export interface FileFerryPushSent extends PushSent {
  finalPath: string;
  plaintextSha256?: string;
}

/**
 * The default push engine: FileFerry's own transfer engine, as the bot and `fileferry copy` run
 * it (streamed, temporary name then rename, SHA-256 and size verified, resumed from the server's
 * bytes). The temporary name is derived from the object's identity, so a process that takes over
 * a dead one's claim continues the dead one's partial file instead of starting another. The
 * runner owns retries: each send is one engine attempt. With `pgp`, the file is encrypted in the
 * stream and sent as `{name}.pgp` (see encryptedSend).
 */
export class FileFerryPushEngine implements PushEngine, LandedCheck {
  constructor(private readonly options: FileFerryPushEngineOptions) {}

  async send(job: PushSend): Promise<FileFerryPushSent> {
    const temporaryId = stableId(job);
    const { pgp } = this.options;
    if (pgp) {
      const sent = await encryptedSend(job, { ...this.options, encryptor: pgp.encryptor, publicKey: pgp.publicKey, temporaryId });
      return { ...sent };
    }
    const remotePath = joinRemote(job.remoteFolder, job.remoteName);
    const request = {
      source: this.options.source,
      container: job.object.container,
      key: job.object.key,
      object: job.object,
      remotePath,
      overwrite: this.options.overwrite,
      resumeTemporaryPath: temporaryPathFor(remotePath, temporaryId),
      retries: 0,
      signal: job.signal,
      connections: this.options.connections,
      ...(this.options.tuning ? { tuning: this.options.tuning } : {}),
    } satisfies Omit<TransferRequest, 'destination'>;
    const { thread } = this.options;
    const result = thread && !this.options.runTransfer
      ? await thread.threads.run({ ...request, destination: thread.spec, secrets: thread.secrets })
      : await (this.options.runTransfer ?? runTransfer)({ ...request, destination: this.options.destination });
    return { bytes: result.bytes, sha256: result.sha256, verification: result.verification, finalPath: result.finalPath };
  }

  /**
   * After a takeover: the file stands under its final name and no temporary file is left, so the
   * dead process renamed it (only verified files are ever renamed) but did not record it.
   */
  async landed(job: PushSend): Promise<FileFerryPushSent | undefined> {
    const name = this.options.pgp ? `${job.remoteName}.pgp` : job.remoteName;
    const finalPath = joinRemote(job.remoteFolder, name);
    const session = await this.options.destination.connect(job.signal);
    try {
      if (await session.stat(temporaryPathFor(finalPath, stableId(job)), job.signal)) return undefined;
      const held = await session.stat(finalPath, job.signal);
      if (!held || held.isDirectory) return undefined;
      if (!this.options.pgp && held.size !== job.object.size) return undefined;
      return { bytes: held.size, verification: 'found in place after a restart (size)', finalPath };
    } finally {
      await session.close();
    }
  }
}

/** The temporary file's id: the same for every process that sends this version of this object under this rule. */
export function stableId(job: Pick<PushSend, 'ruleName' | 'object'>): string {
  const o = job.object;
  return createHash('sha256').update([job.ruleName, o.container, o.key, o.versionId ?? o.etag ?? ''].join('\n')).digest('hex').slice(0, 12);
}
