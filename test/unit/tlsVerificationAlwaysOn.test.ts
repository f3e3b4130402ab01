import { strict as assert } from 'node:assert';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * FTPS (and every other TLS client in FileFerry) verifies certificates, always: a private CA is
 * trusted through a `ca` option, never by switching verification off. This scans the shipped
 * source so a "temporary" switch-off cannot slip in. The patterns are built from pieces so this
 * file itself never contains the forbidden text.
 */
const FORBIDDEN: Array<[string, RegExp]> = [
  ['certificate verification switched off', new RegExp(['reject', 'Unauthorized', '\\s*[:=]\\s*', 'false'].join(''))],
  ['verification switched off process-wide', new RegExp(['NODE_TLS_', 'REJECT_UNAUTHORIZED'].join(''))],
  ['host name check replaced by a no-op', new RegExp(['checkServer', 'Identity', '\\s*[:=]\\s*\\(\\s*\\)\\s*=>'].join(''))],
];

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (/\.(ts|js|cjs|mjs|json)$/.test(entry.name)) out.push(path);
  }
  return out;
}

describe('TLS verification is never switched off', () => {
  it('no file under src/ disables certificate or host name verification', async () => {
    const root = join(__dirname, '..', '..');
    const files = await sourceFiles(join(root, 'src'));
    assert.ok(files.length > 10, `expected to scan the source tree, found ${files.length} files`);
    const hits: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const [what, pattern] of FORBIDDEN) {
        if (pattern.test(text)) hits.push(`${relative(root, file)}: ${what}`);
      }
    }
    assert.deepEqual(hits, []);
  });

  it('the patterns do catch what they are meant to', () => {
    const samples = [['reject', 'Unauthorized: false'].join(''), ['NODE_TLS_', 'REJECT_UNAUTHORIZED=0'].join(''), ['checkServer', 'Identity: () => undefined'].join('')];
    samples.forEach((sample, i) => assert.ok(FORBIDDEN[i]![1].test(sample), sample));
  });
});
