/**
 * The one module that turns a card template (cards/<name>.json) and its typed data model
 * (`CardData[name]`) into an Adaptive Card. Templates are read from disk once, on first use, and
 * kept as parsed `Template`s.
 *
 * After template expansion, every `Action.Execute` is normalised so a handler can read the same
 * shape however the action arrives:
 * - `data.verb` is set to the action's `verb`;
 * - `fallback` is an `Action.Submit` with the same title and data, for hosts that do not render
 *   Universal Actions (older Emulator builds): there the click arrives as a message whose `value`
 *   is the data plus the inputs.
 * In Teams and the Agents Playground the click arrives as an `adaptiveCard/action` invoke with
 * `value.action.verb` and `value.action.data` (data plus inputs); see readCardAction().
 *
 * Undefined fields are not substituted: a `${…}` left in the output means the data did not match
 * the model, and the unit tests look for exactly that.
 *
 * Every string in the data is Markdown-escaped before expansion (see markdownText.ts), because
 * the data carries text from outside (object keys, a justification, a server's reply) and
 * TextBlocks render Markdown: a key must never become a link. Fields named `url`/`…Url` are ours
 * and stay as they are. After expansion the escape is undone wherever text is not Markdown
 * (action data and titles, inputs, choices), so handlers read back exactly what went in.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Template } from 'adaptivecards-templating';
import { CardFactory, type Attachment } from 'botbuilder';
import { ConfigError } from '../domain/errors';
import type { CardData, CardName } from './cardModels';
import { escapeMarkdown, unescapeMarkdown } from '../domain/markdownText';

/** Every template name; the object literal's type makes the compiler insist on all of them. */
const NAMES: Record<CardName, true> = {
  welcome: true,
  help: true,
  requestForm: true,
  tickets: true,
  signIn: true,
  rolePicker: true,
  bucketPicker: true,
  filePicker: true,
  destinationForm: true,
  confirm: true,
  progress: true,
  cancelling: true,
  completed: true,
  failed: true,
  inactive: true,
  error: true,
  requestList: true,
  awaitingApproval: true,
  approvalRequest: true,
  approvalClosed: true,
};

export const CARD_NAMES = Object.keys(NAMES) as CardName[];

let templates: Map<CardName, Template> | undefined;

/**
 * The repo root: the nearest folder above this file holding both package.json and cards/. Works
 * from src/ui under tsx and from dist/src/ui after a build.
 */
function cardsFolder(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'cards'))) return join(dir, 'cards');
    if (dirname(dir) === dir) {
      throw new ConfigError(
        `No cards/ folder found above ${__dirname}.`,
        'Run FileFerry from its repository or ship the cards/ folder next to package.json.',
      );
    }
  }
}

function loadTemplates(): Map<CardName, Template> {
  if (templates) return templates;
  const folder = cardsFolder();
  const loaded = new Map<CardName, Template>();
  for (const name of CARD_NAMES) {
    const file = join(folder, `${name}.json`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`Card template ${file} cannot be read: ${(e as Error).message}`, 'Restore the file from the repository.');
    }
    loaded.set(name, new Template(json));
  }
  templates = loaded;
  return loaded;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Adds data.verb and the Action.Submit fallback to every Action.Execute, in place. */
function normaliseActions(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) normaliseActions(item);
    return;
  }
  if (!isObject(node)) return;
  for (const value of Object.values(node)) normaliseActions(value);
  if (node.type !== 'Action.Execute') return;
  const data = { ...(isObject(node.data) ? node.data : {}), verb: node.verb };
  node.data = data;
  const fallback: Json = { type: 'Action.Submit', title: node.title, data: { ...data } };
  for (const key of ['style', 'associatedInputs', 'tooltip'] as const) {
    if (node[key] !== undefined) fallback[key] = node[key];
  }
  node.fallback = fallback;
}

/** The expanded card JSON for `name` with `data`; what renderCard wraps in an attachment. */
export function expandCard<K extends CardName>(name: K, data: CardData[K]): Json {
  const template = loadTemplates().get(name);
  if (!template) throw new ConfigError(`Unknown card template "${name}".`, 'Use one of the names in CardData.');
  const card: unknown = template.expand({ $root: escapeStrings(data) });
  if (!isObject(card)) throw new ConfigError(`Card template "${name}" did not expand to an object.`, 'Check cards/' + name + '.json.');
  unescapeOutsideMarkdown(card, false);
  normaliseActions(card);
  return card;
}

/** A copy of `value` with every string escaped, except the values of `url`/`…Url` keys. */
function escapeStrings(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return /(^u|U)rl$/.test(key) ? value : escapeMarkdown(value);
  if (Array.isArray(value)) return value.map((v) => escapeStrings(v));
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeStrings(v, k)]));
}

/**
 * Undoes the escape in every string of the expanded card except where Adaptive Cards render
 * Markdown: a TextBlock's `text` and a fact's `title` and `value` (`inFacts`).
 */
function unescapeOutsideMarkdown(node: unknown, inFacts: boolean): void {
  if (Array.isArray(node)) {
    for (const item of node) unescapeOutsideMarkdown(item, inFacts);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (typeof value === 'string') {
      const markdown = (node.type === 'TextBlock' && key === 'text') || (inFacts && (key === 'title' || key === 'value'));
      if (!markdown) node[key] = unescapeMarkdown(value);
    } else {
      unescapeOutsideMarkdown(value, node.type === 'FactSet' && key === 'facts');
    }
  }
}

/** The card as a Bot Framework attachment, ready for `MessageFactory.attachment` or an invoke response. */
export function renderCard<K extends CardName>(name: K, data: CardData[K]): Attachment {
  return CardFactory.adaptiveCard(expandCard(name, data));
}
