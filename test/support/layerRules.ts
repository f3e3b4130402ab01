import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The layer rules of ../shared/ARCHITECTURE.md ("Layer rules"), checked from source text.
 *
 * Why a scanner and not a parser: the `typescript` package here is version 7 (the Go port), whose
 * JS API is ESM-only, marked `unstable/` and drives the native binary over IPC; a dependency such
 * as dependency-cruiser would drop `import type` unless told otherwise and brings its own config
 * language. Import syntax is small, so this file blanks comments, strings and regex literals
 * (keeping every offset) and matches the few import forms on what is left.
 */

export interface Violation {
  /** The importing file, relative to the folder that holds the checked root (`src/...`). */
  file: string;
  /** 1-based line of the import's specifier. */
  line: number;
  /** The specifier exactly as written (`'../adapters/source/s3Source'`, `'zod'`). */
  imports: string;
  /** One line: what the importing file's layer may import. */
  rule: string;
}

export interface ImportRef {
  specifier: string;
  line: number;
}

// ---------------------------------------------------------------------------------------------
// 1. Finding import specifiers in TypeScript source

/**
 * Every import specifier in `source`: `import … from`, `import type`, `export … from`,
 * `import 'x'`, `import('x')` (also in `typeof import('x')`) and `require('x')`. Specifiers
 * computed at run time (`require(name)`) cannot be checked and are skipped.
 */
export function importsOf(source: string): ImportRef[] {
  const code = maskCommentsAndLiterals(source);
  const quotes: number[] = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) quotes.push((match.index ?? 0) + match[0].length - 1);
  }
  // One ref per specifier and line: `require('x') as typeof import('x')` is one import.
  const found = new Map<string, ImportRef>();
  for (const quoteAt of quotes.sort((a, b) => a - b)) {
    const specifier = literalAt(source, quoteAt);
    const line = lineAt(source, quoteAt);
    if (specifier !== undefined && !found.has(`${line}:${specifier}`)) found.set(`${line}:${specifier}`, { specifier, line });
  }
  return [...found.values()];
}

// Each pattern ends at the specifier's opening quote. `(?<![\w$.])` keeps `x.require('a')` and
// `myimport(` out. The clause class has no `=`, `(` or `;`, so `export const from = …` never matches.
const IMPORT_PATTERNS = [
  /(?<![\w$.])(?:import|export)\s[\w$*{},\s]*?\bfrom\s*['"]/g, // import x from 'a', export * from 'a'
  /(?<![\w$.])import\s*['"]/g, // import 'a' (side effects only)
  /(?<![\w$.])(?:import|require)\s*\(\s*['"`]/g, // import('a'), require('a')
];

/** The text of the string literal opening at `quoteAt`, or undefined for a template with `${`. */
function literalAt(source: string, quoteAt: number): string | undefined {
  const quote = source[quoteAt];
  const end = source.indexOf(quote, quoteAt + 1);
  const text = source.slice(quoteAt + 1, end);
  return quote === '`' && text.includes('${') ? undefined : text;
}

function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * `source` with comments turned to spaces and the insides of strings, templates and regex
 * literals turned to `_`, same length and same newlines, so offsets found in it hold in `source`.
 * A template's `${…}` stays code (it may hold a `require`).
 */
export function maskCommentsAndLiterals(source: string): string {
  const out = source.split('');
  const blank = (from: number, to: number, ch: string) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ch;
  };
  const templateBraces: number[] = []; // brace depth at which each open `${` closes
  let braces = 0;
  let i = 0;

  /** Scans template text from `from`; returns where code resumes (after `` ` `` or `${`). */
  const templateText = (from: number): number => {
    let k = from;
    while (k < source.length && source[k] !== '`' && !(source[k] === '$' && source[k + 1] === '{')) {
      k += source[k] === '\\' ? 2 : 1;
    }
    blank(from, Math.min(k, source.length), '_');
    if (source[k] === '$') {
      templateBraces.push(++braces);
      return k + 2;
    }
    return k + 1;
  };

  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      blank(i, stop, ' ');
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      blank(i, stop, ' ');
      i = stop;
    } else if (c === "'" || c === '"') {
      let k = i + 1;
      while (k < source.length && source[k] !== c && source[k] !== '\n') k += source[k] === '\\' ? 2 : 1;
      blank(i + 1, Math.min(k, source.length), '_');
      i = k + 1;
    } else if (c === '`') {
      i = templateText(i + 1);
    } else if (c === '{') {
      braces++;
      i++;
    } else if (c === '}') {
      if (templateBraces.at(-1) === braces) {
        templateBraces.pop();
        braces--;
        i = templateText(i + 1);
      } else {
        braces--;
        i++;
      }
    } else if (c === '/' && startsRegex(out, i)) {
      let k = i + 1;
      let inClass = false;
      while (k < source.length && source[k] !== '\n' && (inClass || source[k] !== '/')) {
        if (source[k] === '[') inClass = true;
        else if (source[k] === ']') inClass = false;
        k += source[k] === '\\' ? 2 : 1;
      }
      blank(i + 1, Math.min(k, source.length), '_');
      i = k + 1;
    } else {
      i++;
    }
  }
  return out.join('');
}

// A `/` starts a regex, not a division, after an operator, an opening bracket, or one of these.
const BEFORE_REGEX_CHARS = new Set('(,=:[!&|?{};+-*%<>~^');
const BEFORE_REGEX_WORDS = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

/** Looks back over the already-masked code, so a quote or comment just before cannot mislead. */
function startsRegex(masked: string[], slashAt: number): boolean {
  let k = slashAt - 1;
  while (k >= 0 && /\s/.test(masked[k])) k--;
  if (k < 0 || BEFORE_REGEX_CHARS.has(masked[k])) return true;
  let word = '';
  while (k >= 0 && /[\w$]/.test(masked[k])) word = masked[k--] + word;
  return BEFORE_REGEX_WORDS.has(word);
}

// ---------------------------------------------------------------------------------------------
// 2. Layers: which folder of src/ a file belongs to

type LayerName =
  | 'domain' | 'ports' | 'transfer' | 'workflow' | 'push' | 'adapter' | 'registry' | 'bot' | 'ui' | 'root'
  | 'config' | 'infrastructure' | 'unknown';

/** Where a file of src/ belongs; `kind` is the adapter kind folder (`source`, `destination`, …). */
interface Place {
  layer: LayerName;
  kind?: string;
}

/** What an import points at: a place in src/, an npm package, a Node built-in, or a file outside src/. */
type Target = Place | { layer: 'package' | 'builtin' | 'outside'; kind?: undefined };

const ROOT_FILES = new Set(['index.ts', 'worker.ts']);
const FOLDER_LAYERS: Record<string, LayerName> = {
  domain: 'domain', ports: 'ports', transfer: 'transfer', workflow: 'workflow', push: 'push',
  bot: 'bot', ui: 'ui', cli: 'root', config: 'config',
};

/** The layer of `file`, a path under `srcRoot`, from its folder. */
export function layerOf(srcRoot: string, file: string): Place {
  const parts = relative(srcRoot, file).split(sep);
  if (parts.length === 1) {
    if (ROOT_FILES.has(parts[0])) return { layer: 'root' };
    // config.ts is what the registry is keyed by; the other top-level files are plumbing.
    return { layer: parts[0] === 'config.ts' ? 'config' : 'infrastructure' };
  }
  if (parts[0] === 'adapters') {
    if (parts[1] === 'registry.ts' || parts[1] === 'registry') return { layer: 'registry' };
    return parts.length > 2 ? { layer: 'adapter', kind: parts[1] } : { layer: 'unknown' };
  }
  return { layer: FOLDER_LAYERS[parts[0]] ?? 'unknown' };
}

function targetOf(srcRoot: string, fromFile: string, specifier: string): Target {
  if (isBuiltin(specifier)) return { layer: 'builtin' };
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) return { layer: 'package' };
  const file = resolveFile(resolve(dirname(fromFile), specifier));
  return relative(srcRoot, file).startsWith('..') ? { layer: 'outside' } : layerOf(srcRoot, file);
}

/** `./x`, `./x.js` (nodenext style) and `./x/` (index) to the `.ts` file; a guess if none exists. */
function resolveFile(base: string): string {
  const stem = base.replace(/\.(c|m)?js$/, '');
  const candidates = [`${stem}.ts`, join(base, 'index.ts'), base];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? `${stem}.ts`;
}

// ---------------------------------------------------------------------------------------------
// 3. Rules: what each layer may import

interface Rule {
  /** Layers (of src/ files) this layer may import; `ownKind` = adapters of the same kind folder. */
  may: ReadonlyArray<LayerName | 'ownKind' | 'anyAdapter'>;
  /** npm packages, and files outside src/ (package.json, cards/): outside code, like a package. */
  packages: boolean;
  /** The rule in one line, shown with each violation. */
  says: (kind?: string) => string;
}

const ENGINE_BELOW: LayerName[] = ['domain', 'ports', 'transfer'];

const INFRASTRUCTURE: Rule = {
  may: ['domain', 'ports', 'workflow', 'config', 'infrastructure'], packages: true,
  says: () => 'infrastructure (top-level src/*.ts) may import only domain/, ports/, workflow/, npm packages and each other (no adapters)',
};

const RULES: Record<LayerName, Rule> = {
  domain: {
    may: ['domain'], packages: false,
    says: () => 'domain/ may import only domain/ and Node built-ins (no npm packages)',
  },
  ports: {
    may: ['domain', 'ports'], packages: false,
    says: () => 'ports/ may import only domain/, ports/ and Node built-ins',
  },
  transfer: {
    may: ENGINE_BELOW, packages: false,
    says: () => 'transfer/ (the engine) may import only domain/, ports/, transfer/ and Node built-ins (no npm packages, adapters, workflow, bot, ui or cli)',
  },
  workflow: {
    may: [...ENGINE_BELOW, 'workflow'], packages: false,
    says: () => 'workflow/ may import only domain/, ports/, transfer/, workflow/ and Node built-ins (no adapters, bot/ui/cli code, SDKs or other npm packages)',
  },
  // Push mode is the workflow without a card: it may parse its rules file (zod, YAML), but it
  // reaches every backend through ports, like the workflow.
  push: {
    may: [...ENGINE_BELOW, 'workflow', 'push'], packages: true,
    says: () => 'push/ may import only domain/, ports/, transfer/, workflow/, push/, npm packages and Node built-ins (no adapters, bot, ui or cli code)',
  },
  adapter: {
    may: [...ENGINE_BELOW, 'ownKind'], packages: true,
    says: (kind) => `adapters/${kind}/ may import only domain/, ports/, transfer/, npm packages and adapters/${kind}/ (adapters never call each other; only the registry composes them)`,
  },
  registry: {
    // The registry is keyed by config (ARCHITECTURE.md), so it may read the config types.
    may: [...ENGINE_BELOW, 'anyAdapter', 'registry', 'config'], packages: true,
    says: () => 'the adapter registry may import only domain/, ports/, transfer/, config, npm packages and adapters/',
  },
  // The bot formats the engine's progress (transfer/types) and logs through src/log.ts.
  bot: {
    may: ['domain', 'ports', 'transfer', 'workflow', 'ui', 'bot', 'infrastructure'], packages: true,
    says: () => 'bot/ may import only domain/, ports/, transfer/, workflow/, ui/, bot/, infrastructure and npm packages (never adapters/)',
  },
  ui: {
    may: ['domain', 'ports', 'transfer', 'workflow', 'ui', 'bot', 'infrastructure'], packages: true,
    says: () => 'ui/ may import only domain/, ports/, transfer/, workflow/, ui/, bot/, infrastructure and npm packages (never adapters/)',
  },
  root: {
    may: ['domain', 'ports', 'transfer', 'workflow', 'push', 'registry', 'bot', 'ui', 'root', 'config', 'infrastructure', 'unknown'], packages: true,
    says: () => 'roots (index.ts, cli/, worker.ts) may import adapters only through src/adapters/registry.ts',
  },
  config: INFRASTRUCTURE,
  infrastructure: INFRASTRUCTURE,
  // Reported once per file by checkLayers, before its imports are looked at.
  unknown: {
    may: [], packages: false,
    says: () => 'this file is in no known layer: move it into one, or give its folder a rule in test/support/layerRules.ts',
  },
};

function allowed(rule: Rule, from: Place, to: Target): boolean {
  if (to.layer === 'builtin') return true;
  if (to.layer === 'package' || to.layer === 'outside') return rule.packages;
  if (to.layer === 'adapter') {
    return rule.may.includes('anyAdapter') || (rule.may.includes('ownKind') && from.kind === to.kind);
  }
  return rule.may.includes(to.layer);
}

// ---------------------------------------------------------------------------------------------
// 4. The check

/** The repository's src/ folder. */
export const SRC_ROOT = resolve(__dirname, '../../src');

/** Every forbidden import in the `.ts` files under `srcRoot`, in file then line order. */
export function checkLayers(srcRoot: string = SRC_ROOT): Violation[] {
  const violations: Violation[] = [];
  for (const file of tsFilesUnder(srcRoot)) {
    const from = layerOf(srcRoot, file);
    const rule = RULES[from.layer];
    const shown = relative(dirname(srcRoot), file).split(sep).join('/');
    if (from.layer === 'unknown') {
      violations.push({ file: shown, line: 1, imports: '(any)', rule: rule.says() });
      continue;
    }
    for (const { specifier, line } of importsOf(readFileSync(file, 'utf8'))) {
      if (!allowed(rule, from, targetOf(srcRoot, file, specifier))) {
        violations.push({ file: shown, line, imports: specifier, rule: rule.says(from.kind) });
      }
    }
  }
  return violations;
}

/** `src/cli/endpoints.ts:5 imports ../adapters/source/s3Source: roots (…) may import …` */
export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line} imports ${v.imports}: ${v.rule}`;
}

function tsFilesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) return tsFilesUnder(path);
      return entry.name.endsWith('.ts') ? [path] : [];
    });
}
