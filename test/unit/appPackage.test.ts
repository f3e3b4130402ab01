import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync, inflateSync } from 'node:zlib';
import { ConfigError } from '../../src/domain/errors';
import { crc32 } from '../../scripts/crc32';
import { ACCENT, drawIcon } from '../../scripts/makeIcons';
import { buildAppPackage, LOCAL_APP_ID, manifestValues } from '../../scripts/packageApp';
import { tempDir } from '../support/tmp';

const ROOT = join(__dirname, '..', '..');
const APP = join(ROOT, 'appPackage');
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BOT_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Decodes an 8-bit RGBA, non-interlaced PNG (what Teams icons are), undoing all five filter types. */
function decodePng(png: Buffer): { width: number; height: number; colourType: number; rgba: Buffer } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  let offset = 8;
  let ihdr: Buffer | undefined;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    assert.equal(png.readUInt32BE(offset + 8 + length), crc32(png.subarray(offset + 4, offset + 8 + length)), `${type} CRC`);
    if (type === 'IHDR') ihdr = data;
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  assert.ok(ihdr, 'IHDR');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const [bitDepth, colourType, , , interlace] = ihdr.subarray(8);
  assert.equal(bitDepth, 8);
  assert.equal(interlace, 0);
  const raw = inflateSync(Buffer.concat(idat));
  const bpp = 4;
  const stride = width * bpp;
  const rgba = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x];
      const a = x >= bpp ? rgba[y * stride + x - bpp] : 0;
      const b = y > 0 ? rgba[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? rgba[(y - 1) * stride + x - bpp] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      assert.notEqual(predictor, undefined, `filter ${filter}`);
      rgba[y * stride + x] = (value + predictor) & 0xff;
    }
  }
  return { width, height, colourType, rgba };
}

/** Reads a ZIP's central directory and inflates every entry, checking sizes and CRCs. */
function unzip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, 'central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    assert.equal(zip.readUInt32LE(local), 0x04034b50, `local header of ${name}`);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const stored = zip.subarray(dataStart, dataStart + compressedSize);
    const data = method === 8 ? inflateRawSync(stored) : stored;
    assert.equal(data.length, size, `${name} size`);
    assert.equal(crc32(data), crc, `${name} CRC`);
    files.set(name, data);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

function checkManifest(manifest: Json): void {
  assert.match(manifest.$schema, /^https:\/\/developer\.microsoft\.com\/json-schemas\/teams\/v1\.(19|2\d)\/MicrosoftTeams\.schema\.json$/);
  assert.equal(`v${manifest.manifestVersion}`, manifest.$schema.split('/').at(-2), 'manifestVersion matches the schema URL');
  for (const field of ['version', 'id', 'developer', 'name', 'description', 'icons', 'accentColor', 'bots', 'validDomains']) {
    assert.ok(manifest[field] !== undefined, `manifest.${field}`);
  }
  const dev = manifest.developer;
  assert.ok(dev.name && dev.name.length <= 32);
  for (const url of [dev.websiteUrl, dev.privacyUrl, dev.termsOfUseUrl]) assert.match(url, /^https:\/\//);
  assert.ok(manifest.name.short.length <= 30 && manifest.name.full.length <= 100);
  assert.ok(manifest.description.short.length <= 80 && manifest.description.full.length <= 4000);
  assert.deepEqual(manifest.icons, { color: 'color.png', outline: 'outline.png' });
  assert.equal(manifest.accentColor, ACCENT, 'accentColor is the colour icon\'s background');
  assert.equal(manifest.bots.length, 1);
  const [bot] = manifest.bots;
  // personal: requests; team: the audit channel the teams-channel notifier posts in.
  assert.deepEqual(bot.scopes, ['personal', 'team']);
  assert.equal(bot.supportsFiles, false);
  assert.equal(bot.commandLists.length, 1);
  assert.deepEqual(bot.commandLists[0].scopes, ['personal']);
  const commands = bot.commandLists[0].commands as { title: string; description: string }[];
  assert.deepEqual(commands.map((c) => c.title), ['transfer', 'status', 'history', 'cancel', 'help']);
  for (const c of commands) assert.ok(c.title.length <= 32 && c.description.length > 0 && c.description.length <= 128, c.title);
  assert.ok(Array.isArray(manifest.validDomains));
}

describe('Teams app package', () => {
  const template = JSON.parse(readFileSync(join(APP, 'manifest.json'), 'utf8')) as Json;

  it('the manifest template has the required fields, the bot in personal and team scope, and the five personal commands', () => {
    checkManifest(template);
    assert.equal(template.id, '${{TEAMS_APP_ID}}');
    assert.equal(template.bots[0].botId, '${{BOT_ID}}');
  });

  it('color.png is 192×192 RGBA on the accent colour; outline.png is 32×32, white on transparent', () => {
    const color = decodePng(readFileSync(join(APP, 'color.png')));
    assert.deepEqual([color.width, color.height, color.colourType], [192, 192, 6]);
    const accent = [1, 3, 5].map((i) => parseInt(ACCENT.slice(i, i + 2), 16));
    assert.deepEqual([...color.rgba.subarray(0, 4)], [...accent, 255], 'corner is the accent colour');

    const outline = decodePng(readFileSync(join(APP, 'outline.png')));
    assert.deepEqual([outline.width, outline.height, outline.colourType], [32, 32, 6]);
    let transparent = 0;
    let opaque = 0;
    for (let i = 0; i < outline.rgba.length; i += 4) {
      const [r, g, b, a] = outline.rgba.subarray(i, i + 4);
      if (a === 0) transparent++;
      else assert.deepEqual([r, g, b], [255, 255, 255], `pixel ${i / 4} is white`);
      if (a === 255) opaque++;
    }
    for (const corner of [0, 31, 32 * 31, 32 * 32 - 1]) assert.equal(outline.rgba[corner * 4 + 3], 0, `corner ${corner} transparent`);
    assert.ok(transparent > 512 && opaque > 100, `transparent ${transparent}, opaque ${opaque}`);
  });

  it('the committed icons are what scripts/makeIcons.ts draws', () => {
    for (const kind of ['color', 'outline'] as const) {
      const drawn = drawIcon(kind);
      assert.ok(decodePng(readFileSync(join(APP, `${kind}.png`))).rgba.equals(drawn.rgba), `${kind}.png is stale: run npx tsx scripts/makeIcons.ts`);
    }
  });

  it('builds a zip with exactly the manifest and both icons, IDs filled in', async () => {
    const dir = await tempDir('apppkg');
    try {
      const values = manifestValues({ MICROSOFT_APP_ID: BOT_ID, BOT_DOMAIN: 'ferry.contoso.com' }, { local: false });
      const { file } = buildAppPackage(values, join(dir.path, 'out', 'app.zip'));
      const files = unzip(readFileSync(file));
      assert.deepEqual([...files.keys()].sort(), ['color.png', 'manifest.json', 'outline.png']);
      assert.ok(files.get('color.png')?.equals(readFileSync(join(APP, 'color.png'))));
      assert.ok(files.get('outline.png')?.equals(readFileSync(join(APP, 'outline.png'))));
      const text = files.get('manifest.json')?.toString('utf8') ?? '';
      assert.doesNotMatch(text, /\$\{\{/);
      const manifest = JSON.parse(text) as Json;
      checkManifest(manifest);
      assert.equal(manifest.id, BOT_ID);
      assert.equal(manifest.bots[0].botId, BOT_ID);
      assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
      assert.deepEqual(manifest.validDomains, ['token.botframework.com', 'ferry.contoso.com']);
    } finally {
      await dir.remove();
    }
  });

  it('takes a separate TEAMS_APP_ID, accepts botbuilder\'s MicrosoftAppId, and leaves out an unset BOT_DOMAIN', async () => {
    const teamsAppId = '9b2c7a51-0d3e-4f6a-8b1c-2d3e4f5a6b7c';
    const values = manifestValues({ MicrosoftAppId: BOT_ID, TEAMS_APP_ID: teamsAppId }, { local: false });
    assert.equal(values.BOT_ID, BOT_ID);
    const dir = await tempDir('apppkg');
    try {
      const { manifest } = buildAppPackage(values, join(dir.path, 'app.zip')) as { manifest: Json };
      assert.equal(manifest.id, teamsAppId);
      assert.equal(manifest.bots[0].botId, BOT_ID);
      assert.deepEqual(manifest.validDomains, ['token.botframework.com']);
    } finally {
      await dir.remove();
    }
  });

  it('refuses a missing or malformed ID with the variable\'s name, unless --local', () => {
    assert.throws(() => manifestValues({}, { local: false }), (e: unknown) => e instanceof ConfigError && /MICROSOFT_APP_ID/.test(e.message) && /--local/.test(e.hint));
    assert.throws(() => manifestValues({ MICROSOFT_APP_ID: 'my-bot' }, { local: false }), /MICROSOFT_APP_ID is not a GUID/);
    assert.throws(() => manifestValues({ MICROSOFT_APP_ID: BOT_ID, TEAMS_APP_ID: 'x' }, { local: false }), /TEAMS_APP_ID is not a GUID/);
    assert.throws(() => manifestValues({ MICROSOFT_APP_ID: BOT_ID, BOT_DOMAIN: 'https://x.example.com/' }, { local: false }), /BOT_DOMAIN/);
    const local = manifestValues({}, { local: true });
    assert.equal(local.BOT_ID, LOCAL_APP_ID);
    assert.match(LOCAL_APP_ID, GUID);
  });

  it('`npm run package` exits 1 naming MICROSOFT_APP_ID when it is unset, and builds with --local', async () => {
    const run = promisify(execFile);
    const env = { ...process.env };
    delete env.MICROSOFT_APP_ID;
    delete env.MicrosoftAppId;
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    const script = join(ROOT, 'scripts', 'packageApp.ts');
    await assert.rejects(run(tsx, [script], { env }), (e: { code?: number; stderr?: string }) => e.code === 1 && /MICROSOFT_APP_ID is not set/.test(e.stderr ?? ''));
    const dir = await tempDir('apppkg');
    try {
      const out = join(dir.path, 'local.zip');
      const { stdout } = await run(tsx, [script, '--local', '--out', out], { env });
      assert.match(stdout, /placeholder App ID/);
      const manifest = JSON.parse(unzip(readFileSync(out)).get('manifest.json')?.toString('utf8') ?? '{}') as Json;
      assert.equal(manifest.bots[0].botId, LOCAL_APP_ID);
    } finally {
      await dir.remove();
    }
  });
});
