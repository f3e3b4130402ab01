import { escapeMarkdown as md } from '../../domain/markdownText';
import type { AuditChannelMessage, NoticeOutcome } from '../../ports/notifier';

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/**
 * The whole webhook body stays under this many bytes. Teams' "post card" limit is about 28 KB
 * (PROTOCOLS.md §4); the margin covers what the flow or the Bot Connector wraps around the card.
 */
export const CARD_BUDGET_BYTES = 24 * 1024;

/** Words and colours per outcome; the words are also how a reader maps a card back (see `OUTCOME_LABELS`). */
const OUTCOMES: Record<NoticeOutcome, { label: string; color: 'Good' | 'Attention' | 'Warning' | 'Accent' }> = {
  completed: { label: 'Completed', color: 'Good' },
  approved: { label: 'Approved', color: 'Good' },
  failed: { label: 'Failed', color: 'Attention' },
  rejected: { label: 'Rejected', color: 'Attention' },
  interrupted: { label: 'Interrupted', color: 'Warning' },
  cancelled: { label: 'Cancelled', color: 'Warning' },
  expired: { label: 'Expired', color: 'Warning' },
};

/** Label shown on the card → outcome. */
export const OUTCOME_LABELS: Readonly<Record<string, NoticeOutcome>> = Object.fromEntries(
  Object.entries(OUTCOMES).map(([outcome, { label }]) => [label, outcome as NoticeOutcome]),
);

/** The title of the fact that carries the request ID. */
export const REQUEST_FACT = 'Request ID';

interface Limits {
  title: number;
  text: number;
  facts: number;
  factTitle: number;
  factValue: number;
  links: number;
}

const GENEROUS: Limits = { title: 200, text: 3000, facts: 30, factTitle: 60, factValue: 600, links: 6 };
const SMALLEST: Limits = { title: 40, text: 200, facts: 5, factTitle: 20, factValue: 60, links: 2 };

/**
 * The one outcome card both Teams notifiers post (Adaptive Card 1.4, which Workflows and Teams
 * both render): an outcome label, the title, the text, the request ID and facts, and a button per
 * ticket. Long values are cut with an ellipsis; if the body would still pass CARD_BUDGET_BYTES
 * (emoji, escapes), every limit is halved until it fits, so no input can make Teams refuse it.
 * Elements carry ids so the card can be read back (tests, and anyone auditing the channel).
 * Titles, text and facts are Markdown-escaped: they carry file names and people's words.
 */
export function outcomeCard(message: AuditChannelMessage): Record<string, unknown> {
  let limits = GENEROUS;
  for (;;) {
    const card = build(message, limits);
    if (Buffer.byteLength(JSON.stringify(workflowBody(card)), 'utf8') <= CARD_BUDGET_BYTES || limits === SMALLEST) return card;
    limits = halve(limits);
  }
}

/** The Workflows webhook body ("When a Teams webhook request is received" posts attachments[0].content). */
export function workflowBody(card: Record<string, unknown>): Record<string, unknown> {
  return { type: 'message', attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content: card }] };
}

function build(message: AuditChannelMessage, limits: Limits): Record<string, unknown> {
  const body: Record<string, unknown>[] = [];
  const outcome = message.outcome ? OUTCOMES[message.outcome] : undefined;
  if (outcome) body.push({ type: 'TextBlock', id: 'outcome', text: outcome.label, color: outcome.color, weight: 'Bolder', size: 'Small', spacing: 'None' });
  body.push({ type: 'TextBlock', id: 'title', text: md(cut(message.title, limits.title)), weight: 'Bolder', size: 'Medium', wrap: true });
  if (message.text) body.push({ type: 'TextBlock', id: 'text', text: md(cut(message.text, limits.text)), wrap: true });
  if (message.requestId) body.push({ type: 'FactSet', id: 'request', facts: [{ title: REQUEST_FACT, value: md(cut(message.requestId, limits.factValue)) }] });
  const facts = Object.entries(message.facts ?? {});
  if (facts.length > 0) {
    const shown = facts.slice(0, limits.facts).map(([title, value]) => ({ title: md(cut(title, limits.factTitle)), value: md(cut(value, limits.factValue)) }));
    if (facts.length > limits.facts) shown.push({ title: '…', value: `${facts.length - limits.facts} more not shown` });
    body.push({ type: 'FactSet', id: 'facts', facts: shown });
  }
  const links = (message.links ?? []).filter((l) => isWebUrl(l.url)).slice(0, limits.links);
  return {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    ...(links.length > 0 ? { actions: links.map((l) => ({ type: 'Action.OpenUrl', title: cut(l.title, 40), url: l.url })) } : {}),
    msteams: { width: 'Full' },
  };
}

/** At most `max` characters (code points, so an emoji is never split), the last one an ellipsis when cut. */
export function cut(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

function halve(l: Limits): Limits {
  const h = (key: keyof Limits) => Math.max(SMALLEST[key], Math.floor(l[key] / 2));
  const next: Limits = { title: h('title'), text: h('text'), facts: h('facts'), factTitle: h('factTitle'), factValue: h('factValue'), links: h('links') };
  return (Object.keys(next) as (keyof Limits)[]).every((k) => next[k] === SMALLEST[k]) ? SMALLEST : next;
}

function isWebUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'https:' || u.protocol === 'http:') && url.length <= 2000;
  } catch {
    return false;
  }
}
