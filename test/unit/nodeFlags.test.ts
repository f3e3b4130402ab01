import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NODE_FLAGS } from '../../scripts/nodeFlags';

/**
 * scripts/nodeFlags.js says why FileFerry's processes start with extra Node flags. The launchers
 * that cannot load that file spell the flags out; these checks fail when one of them drifts.
 */
describe('every launcher starts Node with scripts/nodeFlags.js', () => {
  const root = join(__dirname, '..', '..');
  const flags = NODE_FLAGS.join(' ');
  const read = (path: string): string => readFileSync(join(root, path), 'utf8');

  it('the CLI: its #! line carries the flags, and the file runs through it', async () => {
    assert.equal(read('bin/fileferry.js').split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
    const { stdout } = await promisify(execFile)(join(root, 'bin', 'fileferry.js'), ['--help']);
    assert.match(stdout, /fileferry copy/);
  });

  it("package.json's fileferry script", () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    assert.equal(scripts.fileferry, `node ${flags} bin/fileferry.js`);
  });

  it("the Azure App Service's start command", () => {
    assert.match(read('infra/azure.bicep'), new RegExp(`appCommandLine: 'node ${flags} dist/src/index.js'`));
  });

  // bench/run.ts runs the `fileferry` command itself (a snapshot's bin/fileferry.js), so its #! line applies.
  it('npm start and the bench children take them from the module itself', () => {
    for (const file of ['scripts/start.js', 'bench/compare.ts', 'bench/cpuProbe.ts']) {
      assert.match(read(file), /NODE_FLAGS/, file);
    }
  });
});
