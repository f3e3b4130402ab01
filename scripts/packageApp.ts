/**
 * `npm run package`: builds the Teams app package, a zip holding manifest.json, color.png and
 * outline.png at its root, ready to sideload or upload to the Teams admin centre.
 *
 * appPackage/manifest.json is a template with `${{NAME}}` placeholders (the Teams Toolkit
 * convention), filled from the environment:
 * - BOT_ID       ← MICROSOFT_APP_ID (botbuilder's `MicrosoftAppId` is accepted too): the Azure Bot's
 *                  Microsoft App ID. Required, unless `--local`, which uses a fixed placeholder GUID
 *                  for a package you only want to inspect.
 * - TEAMS_APP_ID ← TEAMS_APP_ID, or the bot's App ID when unset (one ID for both is the usual setup).
 * - BOT_DOMAIN   ← BOT_DOMAIN, the bot's public host name (optional; the entry is left out if unset).
 * - APP_VERSION  ← package.json "version". Teams only takes an update when this goes up.
 *
 * Options: `--local`, `--out FILE` (default dist/appPackage.zip). App IDs are not secrets, but the
 * messages still never echo a value back, only the variable's name.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, FerryError } from '../src/domain/errors';
import { zipFiles } from './zipFiles';

const ROOT = join(__dirname, '..');
const APP_PACKAGE = join(ROOT, 'appPackage');

/** Used by `--local`: recognisably not a real registration. */
export const LOCAL_APP_ID = '00000000-0000-4000-8000-000000000001';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOST_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const PLACEHOLDER = /\$\{\{([A-Z0-9_]+)\}\}/g;

export interface ManifestValues {
  BOT_ID: string;
  TEAMS_APP_ID: string;
  APP_VERSION: string;
  /** Empty when unset; array entries that are only this placeholder are then left out. */
  BOT_DOMAIN: string;
}

/** Reads and checks the manifest values from the environment; throws ConfigError naming the variable. */
export function manifestValues(env: NodeJS.ProcessEnv, options: { local: boolean }): ManifestValues {
  const botId = (env.MICROSOFT_APP_ID || env.MicrosoftAppId || '').trim() || (options.local ? LOCAL_APP_ID : '');
  if (!botId) {
    throw new ConfigError(
      'MICROSOFT_APP_ID is not set: the Teams app package needs the bot\'s Microsoft App ID.',
      'Set MICROSOFT_APP_ID to the App ID of your Azure Bot registration, or run `npm run package -- --local` for a placeholder package.',
    );
  }
  if (!GUID.test(botId)) {
    throw new ConfigError('MICROSOFT_APP_ID is not a GUID.', 'Copy the Microsoft App ID (a GUID) from the Azure Bot resource\'s Configuration page.');
  }
  const teamsAppId = (env.TEAMS_APP_ID ?? '').trim() || botId;
  if (!GUID.test(teamsAppId)) {
    throw new ConfigError('TEAMS_APP_ID is not a GUID.', 'Leave TEAMS_APP_ID unset to reuse the bot\'s App ID, or set it to a GUID.');
  }
  const botDomain = (env.BOT_DOMAIN ?? '').trim();
  if (botDomain && !HOST_NAME.test(botDomain)) {
    throw new ConfigError('BOT_DOMAIN is not a host name.', 'Set BOT_DOMAIN to the bare host name, e.g. fileferry.example.com (no https://, no path).');
  }
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return { BOT_ID: botId, TEAMS_APP_ID: teamsAppId, APP_VERSION: version, BOT_DOMAIN: botDomain };
}

/** The manifest template with every `${{NAME}}` replaced; an unknown placeholder is an error. */
export function fillManifest(template: unknown, values: ManifestValues): unknown {
  const lookup = values as unknown as Record<string, string>;
  const fill = (node: unknown): unknown => {
    if (typeof node === 'string') {
      return node.replace(PLACEHOLDER, (_, name: string) => {
        const value = lookup[name];
        if (!value) throw new ConfigError(`appPackage/manifest.json uses \${{${name}}}, which has no value.`, 'Use only BOT_ID, TEAMS_APP_ID, APP_VERSION and BOT_DOMAIN.');
        return value;
      });
    }
    if (Array.isArray(node)) {
      const optionalEmpty = (item: unknown) => typeof item === 'string' && /^\$\{\{BOT_DOMAIN\}\}$/.test(item) && !values.BOT_DOMAIN;
      return node.filter((item) => !optionalEmpty(item)).map(fill);
    }
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fill(v)]));
    }
    return node;
  };
  return fill(template);
}

/** Builds the zip at `outFile` and returns the filled manifest. */
export function buildAppPackage(values: ManifestValues, outFile: string): { manifest: Record<string, unknown>; file: string } {
  const template: unknown = JSON.parse(readFileSync(join(APP_PACKAGE, 'manifest.json'), 'utf8'));
  const manifest = fillManifest(template, values) as Record<string, unknown>;
  const zip = zipFiles([
    { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8') },
    { name: 'color.png', data: readFileSync(join(APP_PACKAGE, 'color.png')) },
    { name: 'outline.png', data: readFileSync(join(APP_PACKAGE, 'outline.png')) },
  ]);
  const file = resolve(outFile);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, zip);
  return { manifest, file };
}

function main(argv: string[]): number {
  try {
    const { values: args } = parseArgs({ args: argv, options: { local: { type: 'boolean', default: false }, out: { type: 'string' } } });
    const values = manifestValues(process.env, { local: args.local });
    const { file } = buildAppPackage(values, args.out ?? join(ROOT, 'dist', 'appPackage.zip'));
    const note = values.BOT_ID === LOCAL_APP_ID ? ' with the placeholder App ID (--local): not for upload' : '';
    console.log(`Teams app package written to ${file}${note}`);
    return 0;
  } catch (e) {
    if (e instanceof FerryError) {
      console.error(`fileferry package: ${e.message}${e.hint ? `\n  ${e.hint}` : ''}`);
    } else {
      console.error(`fileferry package: ${(e as Error).message}`);
    }
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
