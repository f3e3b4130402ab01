import { isFerryError } from '../domain/errors';
import { stripingConnections } from '../domain/destinationSpec';
import { TYPED_PASSWORD } from '../domain/secretRef';
import type { Destination } from '../ports/destination';
import type { PresentedHostKey } from '../ports/destinationFactory';
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
      const { host, port } = destination.choice;
      // Keys are confirmed per type, so which key is pinned depends on the one the server presents now.
      const presented = await this.presentedHostKey(destination, AbortSignal.timeout(PROBE_TIMEOUT_MS));
      if ('error' in presented) return { screen: this.form(record, values, { errors: { host: presented.error } }) };
      const { key } = presented;
      const pinned = await this.ctx.deps.hostKeys.get(host, port, key.keyType);
      if (!pinned) return this.promptHostKey(record, values, destination, key);
      // The confirmed key of this type (a key confirmed without its type is recorded under it now).
      // Another key of a confirmed type stays refused: the transfer checks against the pinned one
      // and fails with HOST_KEY_MISMATCH before anything is sent.
      if (pinned === key.fingerprint) await this.ctx.deps.hostKeys.trust(host, port, key.keyType, key.fingerprint);
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
    // Stored for the type the server presented: another type later is a new key, not a changed one.
    if (!(await this.ctx.deps.hostKeys.trust(pending.host, pending.port, pending.keyType, pending.fingerprint))) {
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
      details: { host: pending.host, port: pending.port, keyType: pending.keyType ?? null, fingerprint: pending.fingerprint },
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
    // One deadline for the probe and the steps, so the answer still comes within the invoke's time.
    const signal = AbortSignal.timeout(PROBE_TIMEOUT_MS);
    let pinned: string | undefined;
    if (destination.choice.kind === 'adhoc' && destination.choice.protocol === 'sftp') {
      const presented = await this.presentedHostKey(destination, signal);
      // Unreachable: the steps below say so. Otherwise the key confirmed for the presented type.
      if ('key' in presented) pinned = await this.ctx.deps.hostKeys.get(destination.choice.host, destination.choice.port, presented.key.keyType);
    }
    let unknownKey: PresentedHostKey | undefined;
    const opened = await this.open(destination, (key) => (unknownKey = key), pinned);
    const steps = await preflight(opened, description.folder, signal, { connections: stripingConnections(this.ctx.choices.spec(destination.choice)) });
    await this.ctx.audit.record({
      type: 'destination.tested',
      requestId: record.id,
      actor: actor.userId,
      details: { destination: description.label, ok: steps.every((s) => s.ok) && steps.length > 3 },
    });
    const extra: Partial<Extract<Screen, { kind: 'destinationForm' }>> = { testResults: steps };
    if (unknownKey && destination.choice.kind === 'adhoc') {
      this.rememberPrompt(record, values, destination, unknownKey);
      extra.hostKeyPrompt = promptOf(destination.choice.host, destination.choice.port, unknownKey);
    }
    return { screen: this.form(record, values, extra) };
  }

  private policy() {
    const { deps } = this.ctx;
    return { savedNames: this.ctx.choices.names(), allowAdHoc: deps.policy.allowAdHoc, allowPlainFtp: deps.policy.allowPlainFtp };
  }

  /**
   * Opens the chosen destination with the password typed on the card (if any). Ad-hoc SFTP uses
   * `pinned`, the key confirmed before, or probes: the key is reported to `onUnknown` and the
   * login refused.
   */
  private async open(destination: ValidDestination, onUnknown: (key: PresentedHostKey) => void, pinned?: string): Promise<Destination> {
    const { choice } = destination;
    const held = destination.password !== undefined ? new Map([[TYPED_PASSWORD, destination.password]]) : undefined;
    return this.ctx.deps.destinations.open(this.ctx.choices.spec(choice, pinned), { secrets: withHeldSecrets(this.ctx.deps.secrets, held), onUnknownHostKey: onUnknown });
  }

  /**
   * Connects far enough to see the key (and its type) the ad-hoc SFTP server presents; the login
   * is refused before any credential is sent. `error` says why no key was seen.
   */
  private async presentedHostKey(destination: ValidDestination, signal: AbortSignal): Promise<{ key: PresentedHostKey } | { error: string }> {
    let presented: PresentedHostKey | undefined;
    const probe = await this.open(destination, (key) => (presented = key));
    try {
      const session = await probe.connect(signal);
      await session.close();
    } catch (e) {
      if (!presented) return { error: isFerryError(e) ? [e.message, e.hint].filter(Boolean).join(' ') : 'The server could not be reached.' };
    }
    if (!presented) {
      const where = destination.choice.kind === 'adhoc' ? `${destination.choice.host}:${destination.choice.port}` : destination.choice.name;
      throw new WorkflowError('NOT_ALLOWED', `The SFTP server ${where} was reached without a host key check.`);
    }
    return { key: presented };
  }

  /** Shows a key not confirmed yet for its type, and remembers it for `trustHostKey`. */
  private promptHostKey(record: RequestRecord, values: DestinationFormValues, destination: ValidDestination, key: PresentedHostKey): ActionOutcome {
    if (destination.choice.kind !== 'adhoc') throw new Error('promptHostKey needs an ad-hoc destination');
    this.rememberPrompt(record, values, destination, key);
    return { screen: this.form(record, values, { hostKeyPrompt: promptOf(destination.choice.host, destination.choice.port, key) }) };
  }

  private rememberPrompt(record: RequestRecord, values: DestinationFormValues, destination: ValidDestination, key: PresentedHostKey): void {
    if (destination.choice.kind !== 'adhoc') return;
    this.ctx.vault.patch(record.id, {
      hostKeyPrompt: { host: destination.choice.host, port: destination.choice.port, fingerprint: key.fingerprint, keyType: key.keyType, values, destination },
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

/** The host key prompt on the form: the key's fingerprint beside its type, when it names one. */
function promptOf(host: string, port: number, key: PresentedHostKey): { host: string; fingerprint: string; keyType?: string } {
  return { host: `${host}:${port}`, fingerprint: key.fingerprint, ...(key.keyType ? { keyType: key.keyType } : {}) };
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
