import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface SampleFile {
  container: string;
  key: string;
  bytes: Buffer;
  sha256: string;
}

/**
 * Sample files for the bot tests in `<sources>/<container>/<key>`: a CSV, a JSON, a nested folder,
 * a binary of `binaryBytes`, and `extraFiles` numbered files (for paging).
 */
export async function seedSources(sourcesDir: string, options: { binaryBytes?: number; extraFiles?: number } = {}): Promise<Record<string, SampleFile>> {
  const files: Record<string, SampleFile> = {};
  const add = async (container: string, key: string, bytes: Buffer): Promise<void> => {
    const path = join(sourcesDir, container, ...key.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    files[`${container}/${key}`] = { container, key, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  };
  await add('sample-bucket', 'reports/q1-sales.csv', Buffer.from('region,amount\nnorth,1200\nsouth,800\n'));
  await add('sample-bucket', 'reports/2024/summary.json', Buffer.from(JSON.stringify({ year: 2024, total: 2000 }) + '\n'));
  await add('sample-bucket', 'exports/blob.bin', randomBytes(options.binaryBytes ?? 3 * 1024 * 1024));
  await add('other-bucket', 'readme.txt', Buffer.from('other\n'));
  for (let i = 0; i < (options.extraFiles ?? 0); i++) {
    await add('sample-bucket', `many/file-${String(i).padStart(3, '0')}.txt`, Buffer.from(`file ${i}\n`));
  }
  return files;
}
