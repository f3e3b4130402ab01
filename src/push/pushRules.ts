import { readFileSync } from 'node:fs';
import { load as loadYaml } from 'js-yaml';
import { z } from 'zod';
import { ConfigError } from '../domain/errors';
import { checkTemplate } from './folderTemplate';
import type { MatchSpec } from './objectMatch';
import { DAY_NAMES, type DayName, type SendWindow } from './sendWindow';
import { parseSourceUri, type WatchedPlace } from './sourceUri';

/**
 * Push rules (FILEFERRY_PUSH_RULES_FILE): what to watch, what to send, where, and how. JSON or
 * YAML, either a list of rules or `{ settings, rules }`. Validated once at start-up; every error
 * names the rule and the field (`push rule "partner-a": destination.folder: …`).
 */
export interface PushRule {
  name: string;
  source: string;
  place: WatchedPlace;
  match: MatchSpec;
  destination: {
    /** A saved destination (FILEFERRY_DESTINATIONS_FILE) by name. */
    name: string;
    /** Absolute path template of the file on the server; default `<destination folder>/{key}`. */
    folder?: string;
    overwrite: 'fail' | 'replace' | 'rename';
    /** Most transfers of this rule to the destination at once. */
    connections: number;
  };
  /** The recipient's public key (armored), read from `publicKeyFile` at start-up. */
  pgp?: { publicKeyFile: string; publicKey: string };
  /** Seconds an object must stay unchanged (size and ETag) before it is sent. */
  stability: number;
  window?: SendWindow;
  expect?: { atLeast: number; by: string; days: DayName[] };
  triggers: {
    sqs?: { queueUrl: string; visibilityTimeout?: number };
    sns?: { topicArn: string };
    poll?: { seconds: number };
  };
  /** Attempts after the first; 3 as seed 003 asks. */
  retries: number;
  engine: 'fileferry' | 'transfer-family';
  connectorId?: string;
  notify: 'each' | 'failures' | 'digest';
}

export interface PushSettings {
  /** Transfers in flight over all rules. */
  maxInFlight: number;
  /** A claim not renewed for this long is taken over (its process is presumed dead). */
  leaseSeconds: number;
  /** Base and cap of the exponential backoff between attempts. */
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  /** How often the queue is looked at for objects whose wait is over. */
  scanSeconds: number;
}

export interface PushRuleSet {
  settings: PushSettings;
  rules: PushRule[];
}

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a UTC time HH:MM, such as 06:00');
const days = z.array(z.enum(DAY_NAMES)).min(1, 'must name at least one day');
const WEEKDAYS: DayName[] = ['mon', 'tue', 'wed', 'thu', 'fri'];

const ruleSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
    source: z.string().superRefine((v, ctx) => {
      try {
        parseSourceUri(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    }),
    match: z
      .object({
        glob: z.string().min(1).optional(),
        extensions: z.array(z.string().regex(/^\.[^/\\]+$/, 'each extension starts with a dot, such as ".csv"')).min(1).optional(),
        maxSize: z.number().int().positive().optional(),
      })
      .strict()
      .default({}),
    destination: z
      .object({
        name: z.string().min(1),
        folder: z.string().superRefine((v, ctx) => {
          const problem = checkTemplate(v);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }).optional(),
        overwrite: z.enum(['fail', 'replace', 'rename']).default('fail'),
        connections: z.number().int().min(1).max(64).default(4),
      })
      .strict(),
    pgp: z.object({ publicKeyFile: z.string().min(1) }).strict().optional(),
    stability: z.number().min(0).max(86_400).default(30),
    window: z.object({ from: hhmm, to: hhmm, days: days.optional() }).strict().optional(),
    expect: z.object({ atLeast: z.number().int().min(1).default(1), by: hhmm, days: days.default(WEEKDAYS) }).strict().optional(),
    triggers: z
      .object({
        sqs: z.object({ queueUrl: z.url({ message: 'must be the queue URL, such as https://sqs.eu-west-1.amazonaws.com/123456789012/outbound' }), visibilityTimeout: z.number().int().min(0).max(43_200).optional() }).strict().optional(),
        sns: z.object({ topicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, 'must be a topic ARN, arn:aws:sns:<region>:<account>:<topic>') }).strict().optional(),
        poll: z.object({ seconds: z.number().int().min(1).max(86_400) }).strict().optional(),
      })
      .strict()
      .refine((t) => t.sqs || t.sns || t.poll, 'name at least one trigger: sqs, sns or poll'),
    retries: z.number().int().min(0).max(20).default(3),
    engine: z.enum(['fileferry', 'transfer-family']).default('fileferry'),
    connectorId: z.string().regex(/^c-[0-9a-f]{17}$/, 'must be a Transfer Family connector ID, c- and 17 hex digits').optional(),
    notify: z.enum(['each', 'failures', 'digest']).default('failures'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const scheme = /^(\w+):/.exec(r.source)?.[1];
    if ((r.triggers.sqs || r.triggers.sns) && scheme !== 's3') {
      ctx.addIssue({ code: 'custom', path: ['triggers'], message: `S3 event triggers (sqs, sns) need an s3:// source; ${scheme}:// sources are watched by poll` });
    }
    if (r.engine === 'transfer-family' && !r.connectorId) ctx.addIssue({ code: 'custom', path: ['connectorId'], message: 'engine transfer-family needs the connector ID' });
    if (r.engine !== 'transfer-family' && r.connectorId) ctx.addIssue({ code: 'custom', path: ['connectorId'], message: 'is only for engine: transfer-family' });
    if (r.engine === 'transfer-family' && scheme !== 's3') ctx.addIssue({ code: 'custom', path: ['engine'], message: 'Transfer Family reads from S3 only' });
    if (r.engine === 'transfer-family' && r.pgp) ctx.addIssue({ code: 'custom', path: ['pgp'], message: 'Transfer Family sends the object as it is; PGP needs engine: fileferry' });
    if (r.match.glob && r.match.extensions) ctx.addIssue({ code: 'custom', path: ['match'], message: 'give glob or extensions, not both' });
  });

const settingsSchema = z
  .object({
    maxInFlight: z.number().int().min(1).max(256).default(8),
    leaseSeconds: z.number().min(1).max(86_400).default(120),
    retryBaseSeconds: z.number().min(0).max(3600).default(30),
    retryMaxSeconds: z.number().min(0).max(86_400).default(900),
    scanSeconds: z.number().min(0.05).max(3600).default(2),
  })
  .strict()
  .default({ maxInFlight: 8, leaseSeconds: 120, retryBaseSeconds: 30, retryMaxSeconds: 900, scanSeconds: 2 });

const fileSchema = z.union([
  z.array(z.unknown()).transform((rules) => ({ settings: undefined, rules })),
  z.object({ settings: z.unknown().optional(), rules: z.array(z.unknown()) }).strict(),
]);

const VARIABLE = 'FILEFERRY_PUSH_RULES_FILE';

/** Reads and validates the rules file; `destinationNames` are the saved destinations a rule may name. */
export function loadPushRules(file: string, destinationNames?: string[]): PushRuleSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${VARIABLE} (${file}) cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, 'Point it at a JSON or YAML file of push rules.');
  }
  return parsePushRules(text, file, destinationNames);
}

export function parsePushRules(text: string, file: string, destinationNames?: string[]): PushRuleSet {
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : loadYaml(text);
  } catch (e) {
    throw new ConfigError(`${VARIABLE} (${file}) is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`, 'Fix the syntax; the README\'s "Push mode" section has a complete example.');
  }
  const top = fileSchema.safeParse(raw);
  if (!top.success) throw new ConfigError(`${VARIABLE} (${file}) must be a list of rules or an object with "rules" (and optional "settings").`, 'See the README\'s "Push mode" section for the layout.');
  const settings = settingsSchema.safeParse(top.data.settings);
  if (!settings.success) {
    const issue = settings.error.issues[0]!;
    throw new ConfigError(`${VARIABLE} (${file}): settings.${issue.path.join('.') || '(top)'}: ${issue.message}.`, 'Fix the setting or remove it for its default.');
  }
  if (top.data.rules.length === 0) throw new ConfigError(`${VARIABLE} (${file}) has no rules.`, 'Add at least one rule, or unset the variable to turn push mode off.');
  const names = new Set<string>();
  const rules = top.data.rules.map((entry, i) => {
    const label = ruleLabel(entry, i);
    const parsed = ruleSchema.safeParse(entry);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(`push rule ${label}: ${issue.path.join('.') || '(rule)'}: ${issue.message}.`, `Fix this field in ${file}; the README's "Push mode" section lists every field.`);
    }
    const r = parsed.data;
    if (names.has(r.name.toLowerCase())) throw new ConfigError(`push rule ${label}: name: is used by another rule.`, 'Give every rule its own name: the ledger keys objects by it.');
    names.add(r.name.toLowerCase());
    if (destinationNames && !destinationNames.includes(r.destination.name)) {
      throw new ConfigError(`push rule ${label}: destination.name: no saved destination is called ${JSON.stringify(r.destination.name)}.`, `Use one of: ${destinationNames.join(', ') || '(none saved)'}; saved destinations come from FILEFERRY_DESTINATIONS_FILE.`);
    }
    let pgp: PushRule['pgp'];
    if (r.pgp) {
      try {
        pgp = { publicKeyFile: r.pgp.publicKeyFile, publicKey: readFileSync(r.pgp.publicKeyFile, 'utf8') };
      } catch (e) {
        throw new ConfigError(`push rule ${label}: pgp.publicKeyFile: ${r.pgp.publicKeyFile} cannot be read (${(e as NodeJS.ErrnoException).code}).`, 'Point it at the recipient\'s armored public key.');
      }
    }
    const rule: PushRule = {
      ...r,
      place: parseSourceUri(r.source),
      destination: { ...r.destination },
      ...(pgp ? { pgp } : {}),
    } as PushRule;
    if (!pgp) delete rule.pgp;
    return rule;
  });
  return { settings: settings.data, rules };
}

function ruleLabel(entry: unknown, index: number): string {
  const name = (entry as { name?: unknown })?.name;
  return typeof name === 'string' && name ? JSON.stringify(name) : `#${index + 1}`;
}
