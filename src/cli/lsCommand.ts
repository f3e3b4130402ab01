import { PathError } from '../domain/errors';
import { humanBytes, humanDate } from '../ui/format';
import { openSource, storageFor } from './endpoints';
import { parseLocation } from './locationUrl';

/**
 * `fileferry ls SRC`: buckets/containers when SRC names none, else the folders and objects
 * directly below the prefix, every page.
 */
export async function lsCommand(src: string, options: { json: boolean; out: NodeJS.WritableStream; env: NodeJS.ProcessEnv }): Promise<number> {
  const service = /^(s3|azblob):\/\/\/?$/i.exec(src)?.[1]?.toLowerCase() as 's3' | 'azblob' | undefined;
  if (service) {
    const containers = await storageFor(service, options.env).listContainers();
    if (options.json) options.out.write(JSON.stringify({ containers }) + '\n');
    else for (const c of containers) options.out.write(`${c.name}/\n`);
    return 0;
  }
  const opened = openSource(parseLocation(src), options.env);
  const { source, container } = opened;
  // A trailing "/" asks for a folder's contents (file URLs lose it when the path is normalised).
  const key = src.endsWith('/') && opened.key && !opened.key.endsWith('/') ? `${opened.key}/` : opened.key;
  if (key && !key.endsWith('/')) {
    const object = await source.stat(container, key).catch(() => undefined);
    if (!object) throw new PathError(`${src} does not exist; to list a folder, end it with "/".`, 'Check the name, or add a trailing "/".');
    if (options.json) options.out.write(JSON.stringify({ folders: [], objects: [object] }) + '\n');
    else options.out.write(line(object.key, object.size, object.lastModified));
    return 0;
  }
  // Text is printed page by page, so a bucket with millions of keys never sits in memory;
  // --json prints one object, so it collects the listing first.
  const all = { folders: [] as string[], objects: [] as unknown[] };
  let token: string | undefined;
  do {
    const page = await source.list(container, { prefix: key, token, pageSize: 1000 });
    if (options.json) {
      all.folders.push(...page.folders);
      all.objects.push(...page.objects);
    } else {
      for (const f of page.folders) options.out.write(`${''.padStart(10)}  ${''.padEnd(16)}  ${f}\n`);
      for (const o of page.objects) options.out.write(line(o.key, o.size, o.lastModified));
    }
    token = page.nextToken;
  } while (token);
  if (options.json) options.out.write(JSON.stringify(all) + '\n');
  return 0;
}

function line(key: string, size: number, modified?: Date): string {
  return `${humanBytes(size).padStart(10)}  ${(modified ? humanDate(modified) : '').padEnd(16)}  ${key}\n`;
}
