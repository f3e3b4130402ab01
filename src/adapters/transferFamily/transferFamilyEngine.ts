import { ListFileTransferResultsCommand, StartFileTransferCommand, TransferClient, type ConnectorFileTransferResult } from '@aws-sdk/client-transfer';
import { DestinationError, TransferError, isAbort } from '../../domain/errors';
import type { PushEngine, PushSend, PushSent } from '../../ports/pushEngine';
import type { WorkflowLog } from '../../ports/workflowLog';
import { sleep } from '../../transfer/backoff';
import { transferApiError, transferFailure } from './transferFamilyErrors';

export interface TransferFamilyEngineOptions {
  /** The SFTP connector (`c-…`) that knows the partner server, its credentials and host keys. */
  connectorId: string;
  /** Defaults to a TransferClient from the SDK's default chain (region, credentials, AWS_ENDPOINT_URL_TRANSFER). */
  client?: TransferClient;
  /** Between two looks at the transfer's status (default 5 s). */
  pollIntervalMs?: number;
  /** How long a transfer may stay unfinished before FileFerry gives up following it (default 30 min). */
  timeoutMs?: number;
  log: WorkflowLog;
}

export const TRANSFER_FAMILY_VERIFICATION = 'reported by Transfer Family (no checksum)';

/**
 * Push mode's other engine: an AWS Transfer Family SFTP connector moves the object from S3 to
 * the partner server itself. FileFerry starts the transfer (StartFileTransfer with
 * `/bucket/key`) and follows ListFileTransferResults until the file is COMPLETED or FAILED.
 *
 * What this can promise is less than FileFerry's own engine: Transfer Family reports an outcome,
 * not a checksum, writes under the object's own name (no temporary name, no rename of ours), and
 * cannot send under another name or encrypt in the stream. So a rule whose remote name differs
 * from the key's last segment is refused (UNSUPPORTED) instead of being sent under the wrong name.
 *
 * Once a transfer is started it is followed to its end: a status call that fails transiently is
 * tried again at the next poll, since failing here would make push mode start a second copy.
 * For the same reason running out of time is permanent (TIMEOUT, not retryable): the transfer
 * may still finish, and the error names its ID for the connector's CloudWatch log.
 */
export class TransferFamilyEngine implements PushEngine {
  private readonly client: TransferClient;
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: TransferFamilyEngineOptions) {
    if (!/^c-[0-9a-f]{17}$/.test(options.connectorId)) {
      throw new DestinationError('INVALID_CONFIG', `${options.connectorId || '(empty)'} is not a Transfer Family connector ID.`, {
        hint: 'Give the connector ID as the console shows it: c- followed by 17 hex digits.',
      });
    }
    this.client = options.client ?? new TransferClient({});
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.timeoutMs = options.timeoutMs ?? 30 * 60_000;
  }

  async send(job: PushSend): Promise<PushSent> {
    const { connectorId, log } = this.options;
    const { container, key } = job.object;
    const ownName = key.slice(key.lastIndexOf('/') + 1);
    if (job.remoteName !== ownName) {
      throw new DestinationError('UNSUPPORTED', `Transfer Family sends ${key} as ${ownName}; it cannot name it ${job.remoteName} (rule ${job.ruleName}).`, {
        hint: "Use FileFerry's own engine for this rule (it can rename and encrypt), or make the folder template keep the file's name.",
      });
    }
    const sourcePath = `/${container}/${key}`;
    if (job.signal.aborted) throw this.cancelled(sourcePath);

    let transferId: string;
    try {
      const started = await this.client.send(
        new StartFileTransferCommand({ ConnectorId: connectorId, SendFilePaths: [sourcePath], RemoteDirectoryPath: job.remoteFolder }),
        { abortSignal: job.signal },
      );
      if (!started.TransferId) throw new DestinationError('INTERNAL', `Transfer Family started no transfer for ${sourcePath} (no TransferId).`, { hint: 'Try again; the log has the detail.', retryable: true });
      transferId = started.TransferId;
    } catch (e) {
      if (job.signal.aborted || isAbort(e)) throw this.cancelled(sourcePath);
      throw transferApiError(e, connectorId);
    }
    log.info({ rule: job.ruleName, connectorId, transferId, source: sourcePath, remoteFolder: job.remoteFolder }, 'Transfer Family transfer started');

    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      try {
        await sleep(this.pollIntervalMs, job.signal);
      } catch {
        throw this.cancelled(sourcePath, transferId);
      }
      let result: ConnectorFileTransferResult | undefined;
      try {
        result = await this.result(transferId, job.signal);
      } catch (e) {
        if (job.signal.aborted || isAbort(e)) throw this.cancelled(sourcePath, transferId);
        const err = transferApiError(e, connectorId);
        if (!err.retryable) throw err;
        log.warn({ connectorId, transferId, code: err.code, error: err.message }, 'Transfer Family status not available; asking again');
      }
      if (result?.StatusCode === 'COMPLETED') {
        log.info({ rule: job.ruleName, connectorId, transferId, filePath: result.FilePath }, 'Transfer Family transfer completed');
        return { bytes: job.object.size, verification: TRANSFER_FAMILY_VERIFICATION, reference: transferId };
      }
      if (result?.StatusCode === 'FAILED') {
        throw transferFailure(connectorId, transferId, result.FilePath ?? sourcePath, result.FailureCode, result.FailureMessage);
      }
      if (Date.now() > deadline) {
        throw new DestinationError(
          'TIMEOUT',
          `Transfer Family transfer ${transferId} of ${sourcePath} was still ${result?.StatusCode ?? 'not listed'} after ${Math.round(this.timeoutMs / 1000)} s (connector ${connectorId}).`,
          { hint: "Look the transfer ID up in the connector's CloudWatch log; it may still complete, so FileFerry does not send it again by itself.", retryable: false },
        );
      }
    }
  }

  /** This transfer's one file result, following pages; undefined while none is listed yet. */
  private async result(transferId: string, signal: AbortSignal): Promise<ConnectorFileTransferResult | undefined> {
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListFileTransferResultsCommand({ ConnectorId: this.options.connectorId, TransferId: transferId, NextToken: nextToken }),
        { abortSignal: signal },
      );
      const found = page.FileTransferResults?.[0];
      if (found) return found;
      nextToken = page.NextToken;
    } while (nextToken);
    return undefined;
  }

  private cancelled(sourcePath: string, transferId?: string): TransferError {
    return new TransferError(
      'CANCELLED',
      transferId
        ? `Following Transfer Family transfer ${transferId} of ${sourcePath} was cancelled; the connector may still complete it.`
        : `Sending ${sourcePath} through Transfer Family was cancelled before it started.`,
      { hint: transferId ? "Check the connector's CloudWatch log for the transfer ID before sending it again." : 'Start it again when you are ready.' },
    );
  }
}
