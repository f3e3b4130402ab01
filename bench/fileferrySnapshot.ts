import { cp, mkdir, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureBuilt } from '../scripts/ensureBuilt';

const ROOT = resolve(__dirname, '..');

/**
 * A copy of the `fileferry` command as a deployed image ships it: bin/, scripts/, dist/ and
 * package.json, with node_modules and cards/ linked from the checkout, and no src/. Built first
 * in the checkout (scripts/ensureBuilt.js), then copied, so every round of the bench runs the
 * same compiled code: without src/, bin/fileferry.js skips its freshness check, and an edit to
 * src/ during a long bench can neither trigger a rebuild inside a timed run nor change the code
 * between rounds. Returns the path of the copy's bin/fileferry.js.
 */
export async function fileferrySnapshot(into: string): Promise<string> {
  ensureBuilt(ROOT);
  await mkdir(into, { recursive: true });
  for (const part of ['bin', 'scripts', 'dist', 'package.json']) await cp(join(ROOT, part), join(into, part), { recursive: true });
  for (const part of ['node_modules', 'cards']) await symlink(join(ROOT, part), join(into, part));
  return join(into, 'bin', 'fileferry.js');
}
