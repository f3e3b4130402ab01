import type { Actor } from '../domain/requestRecord';
import { ConfigError } from '../domain/errors';

/**
 * One approver as FILEFERRY_APPROVERS names them. An Entra object ID is the only way Teams lets
 * the bot open a 1:1 chat, so it is what cards are delivered to; a UPN authorises its holder (the
 * UPN comes from Teams' member lookup, never from the card) but cannot be messaged first; a
 * channel (`19:…@thread.tacv2`) gets one card that anyone in it, except the requester, may act on.
 */
export type ApproverRef = { kind: 'user'; objectId: string } | { kind: 'upn'; upn: string } | { kind: 'channel'; channelId: string };

/** The approval policy, parsed once at start-up (config.ts) and handed to the workflow. */
export interface ApprovalPolicy {
  /** Environments (upper case) whose requests need an approval before any byte moves. */
  environments: readonly string[];
  /** 'teams': approvers decide on a card; 'servicenow': the request ticket's `approval` field decides. */
  via: 'teams' | 'servicenow';
  /** Assignment group → its approvers (only for via 'teams'). */
  approvers: Readonly<Record<string, readonly ApproverRef[]>>;
  /** An unanswered approval ends the request as expired after this many hours. */
  hours: number;
  /** How often ServiceNow's `approval` field is read while a request waits (via 'servicenow'). */
  pollSeconds: number;
}

const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CHANNEL = /^19:[^\s|;,=]+@thread\.(tacv2|skype)$/i;
const UPN = /^[^\s@|;,=]+@[^\s@|;,=]+\.[^\s@|;,=]+$/;

/**
 * Reads FILEFERRY_APPROVERS. Two spellings, so an operator can write it in one variable:
 * `Group=alice@contoso.com|0f1e…-…;Other=19:abc@thread.tacv2` (groups split by `;`, approvers by
 * `|` or `,`), or JSON `{"Group":["alice@contoso.com","19:abc@thread.tacv2"]}`. Every group must be
 * one of FILEFERRY_ASSIGNMENT_GROUPS (a typo would otherwise leave a group without approvers), and
 * needs someone the bot can reach: an object ID or a channel, not only UPNs.
 */
export function parseApprovers(text: string, assignmentGroups: readonly string[], variable = 'FILEFERRY_APPROVERS'): Record<string, ApproverRef[]> {
  const entries = text.trim().startsWith('{') ? jsonEntries(text, variable) : pairEntries(text, variable);
  const out: Record<string, ApproverRef[]> = {};
  for (const [group, raw] of entries) {
    if (!assignmentGroups.includes(group)) {
      throw new ConfigError(`${variable} names the group "${group}", which is not in FILEFERRY_ASSIGNMENT_GROUPS (${assignmentGroups.join(', ')}).`, 'Spell the group exactly as FILEFERRY_ASSIGNMENT_GROUPS does, or add it there.');
    }
    if (out[group]) throw new ConfigError(`${variable} gives the group "${group}" twice.`, 'List all of its approvers in one entry.');
    const refs = raw.map((value) => approverRef(value, group, variable));
    if (refs.length === 0) throw new ConfigError(`${variable} gives the group "${group}" no approvers.`, `Write ${group}=<object ID or UPN>|…, or leave the group out.`);
    if (!refs.some((r) => r.kind !== 'upn')) {
      throw new ConfigError(`${variable}: the group "${group}" lists only UPNs, and Teams lets a bot start a chat only by Entra object ID.`, `Add each approver's Entra object ID (a GUID, from Entra ID > Users) or a Teams channel (19:…@thread.tacv2) to ${group}.`);
    }
    out[group] = refs;
  }
  return out;
}

function pairEntries(text: string, variable: string): Array<[string, string[]]> {
  return text
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new ConfigError(`${variable}: "${pair}" is not Group=approver|approver.`, 'Write each group as Group=alice@contoso.com|<object ID>, groups separated by ";".');
      return [pair.slice(0, at).trim(), pair.slice(at + 1).split(/[|,]/).map((v) => v.trim()).filter(Boolean)];
    });
}

function jsonEntries(text: string, variable: string): Array<[string, string[]]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${variable} starts with "{" but is not JSON: ${(e as Error).message}`, 'Write {"Group":["alice@contoso.com"]}, or the Group=approver|approver form.');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`${variable} must be a JSON object of group → list of approvers.`, 'Write {"Group":["alice@contoso.com"]}.');
  return Object.entries(parsed as Record<string, unknown>).map(([group, list]) => {
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) {
      throw new ConfigError(`${variable}: the group "${group}" must map to a list of strings.`, 'Write {"Group":["alice@contoso.com","<object ID>"]}.');
    }
    return [group.trim(), (list as string[]).map((v) => v.trim()).filter(Boolean)];
  });
}

function approverRef(value: string, group: string, variable: string): ApproverRef {
  if (OBJECT_ID.test(value)) return { kind: 'user', objectId: value.toLowerCase() };
  if (CHANNEL.test(value)) return { kind: 'channel', channelId: value };
  if (UPN.test(value)) return { kind: 'upn', upn: value.toLowerCase() };
  throw new ConfigError(`${variable}: the approver "${value}" of "${group}" is not an Entra object ID, a UPN or a Teams channel ID.`, 'Use a GUID such as 0f1e2d3c-…, a UPN such as alice@contoso.com, or a channel ID such as 19:abc@thread.tacv2.');
}

/** Whether requests in `environment` need approval under `policy` (none: approvals are off). */
export function needsApproval(policy: ApprovalPolicy | undefined, environment: string | undefined): policy is ApprovalPolicy {
  return !!policy && !!environment && policy.environments.includes(environment.toUpperCase());
}

/** The approvers as the requester's card names them. */
export function approverLabels(refs: readonly ApproverRef[]): string[] {
  return refs.map((r) => (r.kind === 'user' ? r.objectId : r.kind === 'upn' ? r.upn : `the Teams channel ${r.channelId}`));
}

/** Who clicked, as the bot knows it from Teams (never from card data). */
export interface Approver {
  actor: Actor;
  /** The conversation the click came from: a channel approver is one who clicks inside that channel. */
  conversationId?: string;
}

/**
 * Whether `who` is one of `refs`: the Entra object ID, the UPN Teams reports for them, or a click
 * inside a listed channel (its thread, or a reply in it: `19:…@thread.tacv2;messageid=…`).
 */
export function isListedApprover(refs: readonly ApproverRef[], who: Approver): boolean {
  const id = who.actor.userId.toLowerCase();
  const upn = who.actor.upn?.toLowerCase();
  const conversation = who.conversationId ?? '';
  return refs.some((r) =>
    r.kind === 'user' ? r.objectId === id : r.kind === 'upn' ? !!upn && r.upn === upn : conversation === r.channelId || conversation.startsWith(`${r.channelId};`),
  );
}

/** The requester can never approve their own request, whichever way they are listed. */
export function isRequester(owner: Actor, who: Actor): boolean {
  if (owner.userId === who.userId && (owner.tenantId ?? '') === (who.tenantId ?? '')) return true;
  return !!owner.upn && !!who.upn && owner.upn.toLowerCase() === who.upn.toLowerCase();
}
