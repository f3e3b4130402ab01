/** Reading expanded Adaptive Card JSON the way a client does: actions, inputs, visible text. */
import { unescapeMarkdown } from '../../src/domain/markdownText';

type Json = Record<string, unknown>;

export interface FoundAction {
  type: string;
  verb: string;
  title: string;
  data: Json;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walk(node: unknown, visit: (n: Json) => void): void {
  if (Array.isArray(node)) return node.forEach((n) => walk(n, visit));
  if (!isObject(node)) return;
  visit(node);
  for (const [key, value] of Object.entries(node)) {
    if (key === 'fallback') continue; // the Action.Submit twin of an Action.Execute
    walk(value, visit);
  }
}

/** Every Action.Execute in the card (and plain Action.Submit with data.verb). */
export function actionsOf(card: unknown): FoundAction[] {
  const found: FoundAction[] = [];
  walk(card, (n) => {
    if (n.type === 'Action.Execute' || (n.type === 'Action.Submit' && isObject(n.data) && typeof n.data.verb === 'string')) {
      const data = isObject(n.data) ? n.data : {};
      found.push({ type: String(n.type), verb: String(n.verb ?? data.verb), title: String(n.title ?? ''), data });
    }
  });
  return found;
}

/** Input id → its current value, as a client would submit it untouched. */
export function inputValues(card: unknown): Record<string, string> {
  const values: Record<string, string> = {};
  walk(card, (n) => {
    if (typeof n.type === 'string' && n.type.startsWith('Input.') && typeof n.id === 'string') {
      values[n.id] = n.value === undefined || n.value === null ? (n.type === 'Input.Toggle' ? String(n.valueOff ?? 'false') : '') : String(n.value);
    }
  });
  return values;
}

/** The ids of the card's inputs. */
export function inputIds(card: unknown): string[] {
  return Object.keys(inputValues(card));
}

/** All text a person would read: TextBlocks, TextRuns, facts, action titles. */
export function cardText(card: unknown): string {
  const parts: string[] = [];
  // TextBlocks and facts are Markdown: read them as Teams shows them, escapes removed.
  walk(card, (n) => {
    if (n.type === 'TextBlock' && typeof n.text === 'string') parts.push(unescapeMarkdown(n.text));
    if (n.type === 'TextRun' && typeof n.text === 'string') parts.push(n.text);
    if (typeof n.title === 'string' && typeof n.value === 'string' && n.type === undefined) parts.push(`${unescapeMarkdown(n.title)}: ${unescapeMarkdown(n.value)}`);
    if (typeof n.title === 'string' && String(n.type ?? '').startsWith('Action.')) parts.push(n.title);
  });
  return parts.join('\n');
}

/** The adaptive card inside an activity, if it carries one. */
export function cardOf(activity: Record<string, unknown> | undefined): Json | undefined {
  const attachments = activity?.attachments;
  if (!Array.isArray(attachments)) return undefined;
  const a = attachments.find((x) => isObject(x) && x.contentType === 'application/vnd.microsoft.card.adaptive') as Json | undefined;
  return a && isObject(a.content) ? a.content : undefined;
}

/**
 * Per-field error messages as the card shows them: an input followed (in the same container) by
 * an Attention-coloured TextBlock, which is how the form templates place a field's error.
 */
export function fieldErrors(card: unknown): Record<string, string> {
  const errors: Record<string, string> = {};
  const scan = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        const next = node[i + 1];
        if (isObject(item) && typeof item.type === 'string' && item.type.startsWith('Input.') && typeof item.id === 'string'
          && isObject(next) && next.type === 'TextBlock' && next.color === 'Attention' && typeof next.text === 'string') {
          errors[item.id] = unescapeMarkdown(next.text);
        }
        scan(item);
      });
      return;
    }
    if (isObject(node)) for (const [k, v] of Object.entries(node)) if (k !== 'fallback') scan(v);
  };
  scan(card);
  return errors;
}
