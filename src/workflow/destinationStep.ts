import { isFerryError } from '../domain/errors';
import { TYPED_PASSWORD } from '../domain/secretRef';
import type { Destination } from '../ports/destination';
import { checkRemotePath, joinRemote } from '../transfer/remotePath';
import { withHeldSecrets } from './heldSecrets';
import { AD_HOC, validateDestinationForm, type DestinationFormValues, type ValidDestination } from './destinationValidation';
import { preflight } from './preflight';
import { fileNameOf, type Actor, type RequestRecord } from '../domain/requestRecord';
import { moveTo } from '../domain/requestStates';
import type { ActionOutcome, Screen } from './screens';
import type { WorkflowContext } from './workflowContext';
import { WorkflowError } from '../domain/workflowError';

/** Stays inside the 15 s a channel waits for an invoke answer. */
const PROBE_TIMEOUT_MS = 12_000;

/**
 * The destination form: choose a saved destination or type an ad-hoc one, confirm an unknown SFTP
 * host key, run "Test connection", and set the destination. The typed password goes to the
 * memory-only vault, never to the record, a log line or a card.
 */
export class DestinationStep {
  constructor(private readonly ctx: WorkflowContext) {}

  /** The empty form shown after a file is picked. */
  form(record: RequestRecord, values?: Partial<DestinationFormValues>, extra: Partial<Extract<Screen, { kind: 'destinationForm' }>> = {}): Screen {
    const { deps } = this.ctx;
    const saved = this.ctx.choices.names();
    return {
      kind: 'destinationForm',
      requestId: record.id,
      fileName: fileNameOf(record.source?.key),
      saved,
      adHocAllowed: deps.policy.allowAdHoc,
      plainFtpAllowed: deps.policy.allowPlainFtp,
      values: {
        savedDestination: saved[0] ?? AD_HOC,
        protocol: 'sftp',
        host: '',
        port: '',
        username: '',
        remoteFolder: '',
        overwrite: 'fail',
        ...values,
      },
      errors: {},
      ...extra,
    };
  }

  async submit(record: RequestRecord, actor: Actor, inputs: Record<string, unknown>): Promise<ActionOutcome> {
    const checked = validateDestinationForm(inputs, this.policy());
    if (!checked.ok) return { screen: this.form(record, checked.values, { errors: checked.errors }) };
    const { destination, values } = checked;
    if (destination.choice.kind === 'adhoc' && destination.choice.protocol === 'sftp') {
      const pinned = await this.ctx.deps.hostKeys.get(destination.choice.host, destination.choice.port);
      if (!pinned) return this.probeHostKey(record, values, destination);
      return this.setDestination(record, actor, destination, pinned);
    }
    return this.setDestination(record, actor, destination);
  }

  /** The user confirmed the fingerprint shown on the card; it must be the one the server presented. */
  async trustHostKey(record: RequestRecord, actor: Actor, fingerprint: unknown): Promise<ActionOutcome> {
    const pending = this.ctx.vault.get(record.id)?.hostKeyPrompt;
    if (!pending || typeof fingerprint !== 'string' || fingerprint !== pending.fingerprint) {
      throw new WorkflowError('NOT_LISTED', 'That host key was not presented by the server for this request.');
    }
    // The probe reports no key type yet (undefined: a key of unknown type, which stands for every type).
    if (!(await this.ctx.deps.hostKeys.trust(pending.host, pending.port, undefined, pending.fingerprint))) {
      return {
        screen: this.form(record, pending.values, {
          errors: { host: `The server ${pending.host}:${pending.port} presented a different host key from the one confirmed before. It is refused: ask the server's owner whether the key changed.` },
        }),
      };
    }
    await this.ctx.audit.record({
      type: 'destination.hostkey-trusted',
      requestId: record.id,
      actor: actor.userId,
      details: { host: pending.host, port: pending.port, fingerprint: pending.fingerprint },
    });
    this.ctx.vault.patch(record.id, { hostKeyPrompt: undefined });
    return this.setDestination(record, actor, pending.destination, pending.fingerprint);
  }

  /** "Test connection": validates the form, then runs the pre-flight steps; the form comes back with the results. */
  async test(record: RequestRecord, actor: Actor, inputs: Record<string, unknown>): Promise<ActionOutcome> {
    const checked = validateDestinationForm(inputs, this.policy());
    if (!checked.ok) return { screen: this.form(record, checked.values, { errors: checked.errors }) };
    const { destination, values } = checked;
    const description = this.ctx.choices.describe(destination.choice);
    let unknownKey: string | undefined;
    const opened = await this.open(destination, (fp) => (unknownKey = fp));
    const steps = await preflight(opened, description.folder, AbortSignal.timeout(PROBE_TIMEOUT_MS));
    await this.ctx.audit.record({
      type: 'destination.tested',
      requestId: record.id,
      actor: actor.userId,
      details: { destination: description.label, ok: steps.every((s) => s.ok) && steps.length > 3 },
    });
    const extra: Partial<Extract<Screen, { kind: 'destinationForm' }>> = { testResults: steps };
    if (unknownKey && destination.choice.kind === 'adhoc') {
      this.rememberPrompt(record, values, destination, unknownKey);
      extra.hostKeyPrompt = { host: `${destination.choice.host}:${destination.choice.port}`, fingerprint: unknownKey };
    }
    return { screen: this.form(record, values, extra) };
  }

  private policy() {
    const { deps } = this.ctx;
    return { savedNames: this.ctx.choices.names(), allowAdHoc: deps.policy.allowAdHoc, allowPlainFtp: deps.policy.allowPlainFtp };
  }

  /**
   * Opens the chosen destination with the password typed on the card (if any). Ad-hoc SFTP uses
   * the key confirmed before, or probes: the key is reported to `onUnknown` and the login refused.
   */
  private async open(destination: ValidDestination, onUnknown: (fp: string) => void, probeOnly = false): Promise<Destination> {
    const { choice } = destination;
    const pinned = choice.kind === 'adhoc' && choice.protocol === 'sftp' && !probeOnly ? await this.ctx.deps.hostKeys.get(choice.host, choice.port) : undefined;
    const held = destination.password !== undefined ? new Map([[TYPED_PASSWORD, destination.password]]) : undefined;
    return this.ctx.deps.destinations.open(this.ctx.choices.spec(choice, pinned), { secrets: withHeldSecrets(this.ctx.deps.secrets, held), onUnknownHostKey: onUnknown });
  }

  /** Connects far enough to see the server's key; shows it for confirmation. */
  private async probeHostKey(record: RequestRecord, values: DestinationFormValues, destination: ValidDestination): Promise<ActionOutcome> {
    if (destination.choice.kind !== 'adhoc') throw new Error('probeHostKey needs an ad-hoc destination');
    const { host, port } = destination.choice;
    let presented: string | undefined;
    const probe = await this.open(destination, (fp) => (presented = fp), true);
    try {
      const session = await probe.connect(AbortSignal.timeout(PROBE_TIMEOUT_MS));
      await session.close();
    } catch (e) {
      if (!presented) {
        const detail = isFerryError(e) ? [e.message, e.hint].filter(Boolean).join(' ') : 'The server could not be reached.';
        return { screen: this.form(record, values, { errors: { host: detail } }) };
      }
    }
    if (!presented) throw new WorkflowError('NOT_ALLOWED', `The SFTP server ${host}:${port} was reached without a host key check.`);
    this.rememberPrompt(record, values, destination, presented);
    return { screen: this.form(record, values, { hostKeyPrompt: { host: `${host}:${port}`, fingerprint: presented } }) };
  }

  private rememberPrompt(record: RequestRecord, values: DestinationFormValues, destination: ValidDestination, fingerprint: string): void {
    if (destination.choice.kind !== 'adhoc') return;
    this.ctx.vault.patch(record.id, {
      hostKeyPrompt: { host: destination.choice.host, port: destination.choice.port, fingerprint, values, destination },
    });
  }

  private async setDestination(record: RequestRecord, actor: Actor, destination: ValidDestination, fingerprint?: string): Promise<ActionOutcome> {
    const description = this.ctx.choices.describe(destination.choice);
    const fileName = fileNameOf(record.source!.key);
    const remotePath = checkRemotePath(joinRemote(description.folder, fileName), 'destination path');
    record.destination = {
      choice: destination.choice,
      label: description.label,
      remotePath,
      overwrite: destination.overwrite,
      hostKeyFingerprint: fingerprint ?? description.pinnedFingerprint,
    };
    moveTo(record, 'destination-set');
    this.ctx.vault.patch(record.id, { password: destination.password, hostKeyPrompt: undefined });
    await this.ctx.save(record);
    await this.ctx.audit.record({
      type: 'destination.set',
      requestId: record.id,
      actor: actor.userId,
      details: { destination: description.label, remotePath, overwrite: destination.overwrite, hostKey: record.destination.hostKeyFingerprint ?? null },
    });
    return { screen: confirmScreen(record) };
  }
}

/** The confirm card's data, from the record (again when a transfer could not start yet: `note` says why). */
export function confirmScreen(record: RequestRecord, note?: string): Screen {
  const source = record.source!;
  const destination = record.destination!;
  return {
    kind: 'confirm',
    requestId: record.id,
    fileName: fileNameOf(source.key),
    source: `${record.form?.cloud ?? ''} ${source.container}/${source.key}`.trim(),
    size: source.size,
    destination: destination.label,
    remotePath: destination.remotePath,
    overwrite: destination.overwrite,
    ...(note ? { note } : {}),
  };
}
