import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt } from '../../scripts/ensureBuilt';
import { tempDir } from '../support/tmp';

const ROOT = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/**
 * FileFerry runs compiled JavaScript from dist/, built on first use in a checkout
 * (scripts/ensureBuilt.js): never a stale build, and tsx only for tests and scripts.
 */
describe('the compiled runtime', () => {
  it('builds a project with no dist/, then only again after a source changes', async () => {
    const tmp = await tempDir('ensure-built');
    after(tmp.remove);
    const dir = tmp.path;
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'package.json'), '{"name":"probe","private":true}\n');
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', types: [], strict: true, outDir: 'dist', rootDir: '.' } }));
    writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'] }));
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'src', 'answer.ts'), 'export const answer: number = 41;\n');

    assert.equal(ensureBuilt(dir), true);
    assert.match(readFileSync(join(dir, 'dist', 'src', 'answer.js'), 'utf8'), /answer = 41/);
    const stampedAt = statSync(join(dir, 'dist', '.built')).mtimeMs;

    assert.equal(ensureBuilt(dir), false, 'a fresh build is not rebuilt');
    assert.equal(statSync(join(dir, 'dist', '.built')).mtimeMs, stampedAt);

    writeFileSync(join(dir, 'src', 'answer.ts'), 'export const answer: number = 42;\n');
    const later = new Date(stampedAt + 5_000);
    utimesSync(join(dir, 'src', 'answer.ts'), later, later);
    assert.equal(ensureBuilt(dir), true, 'an edited source is rebuilt');
    assert.match(readFileSync(join(dir, 'dist', 'src', 'answer.js'), 'utf8'), /answer = 42/);
  });

  it('a project without src/ (a deployed dist/) is left alone', async () => {
    const tmp = await tempDir('ensure-built-deployed');
    after(tmp.remove);
    const dir = tmp.path;
    assert.equal(ensureBuilt(dir), false);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('bin/fileferry.js and npm start run dist/, not the TypeScript sources', () => {
    const bin = read('bin/fileferry.js');
    assert.match(bin, /require\('\.\.\/dist\/src\/cli\/main'\)/);
    assert.doesNotMatch(bin, /tsx/);
    const start = read('scripts/start.js');
    assert.match(start, /'dist\/src\/index\.js'/);
    assert.doesNotMatch(start.replace(/^\s*(\/\/|\*).*$/gm, ''), /tsx/);
  });

  it('tsx is a dev dependency only, and no shipped source loads it', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    assert.equal(pkg.dependencies.tsx, undefined);
    assert.ok(pkg.devDependencies.tsx);
    const offenders: string[] = [];
    const walk = (folder: string): void => {
      for (const entry of readdirSync(join(ROOT, folder), { withFileTypes: true })) {
        const path = join(folder, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.ts$/.test(entry.name) && /(?:require\(|from |import\()\s*['"]tsx/.test(read(path))) offenders.push(path);
      }
    };
    walk('src');
    assert.deepEqual(offenders, []);
  });
});
