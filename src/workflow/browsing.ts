import type { Screen } from './screens';
import { objectKey, type BrowseState, type SignInSession } from './sessions';
import { WorkflowError } from '../domain/workflowError';

export const PAGE_SIZE = 20;

/** The folder one level above `prefix` ("a/b/" → "a/", "a/" → ""), undefined at the top. */
export function parentOf(prefix: string): string | undefined {
  if (!prefix) return undefined;
  const trimmed = prefix.slice(0, -1);
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? '' : trimmed.slice(0, i + 1);
}

/** Lists the containers the session can see and remembers them as pickable. */
export async function listContainers(session: SignInSession, requestId: string, cloud: string, region: string, note?: string): Promise<Screen> {
  const containers = await session.identity.source.listContainers();
  for (const c of containers) session.containers.add(c.name);
  return { kind: 'buckets', requestId, cloud, region, containers, note };
}

/**
 * Opens `prefix` in `container` at its first page. Only a container this session listed, and
 * only the top, a folder it listed or a parent of one, can be opened.
 */
export async function openFolder(session: SignInSession, requestId: string, container: string, prefix: string, filter = ''): Promise<Screen> {
  if (!session.containers.has(container)) throw new WorkflowError('NOT_LISTED', `Container ${container} was not listed in this session.`);
  if (prefix !== '' && !session.prefixes.get(container)?.has(prefix)) {
    throw new WorkflowError('NOT_LISTED', `Folder ${prefix} in ${container} was not listed in this session.`);
  }
  session.browse = { container, prefix, filter, pageTokens: [undefined], page: 0 };
  return listPage(session, requestId);
}

/** Moves to the next or previous page of the current folder, using only tokens the server issued. */
export async function turnPage(session: SignInSession, requestId: string, direction: string): Promise<Screen> {
  const b = requireBrowse(session);
  if (direction === 'next') {
    if (!b.nextToken) throw new WorkflowError('NOT_LISTED', 'There is no next page.');
    b.page += 1;
    b.pageTokens[b.page] = b.nextToken;
  } else if (direction === 'previous') {
    if (b.page === 0) throw new WorkflowError('NOT_LISTED', 'There is no previous page.');
    b.page -= 1;
  } else {
    throw new WorkflowError('BAD_ACTION', `Unknown page direction ${JSON.stringify(direction)}.`);
  }
  return listPage(session, requestId);
}

/** Re-lists the current folder keeping names that start with `filter`, from the first page. */
export async function applyFilter(session: SignInSession, requestId: string, filter: string): Promise<Screen> {
  const b = requireBrowse(session);
  session.browse = { ...b, filter, pageTokens: [undefined], page: 0, nextToken: undefined };
  return listPage(session, requestId);
}

function requireBrowse(session: SignInSession): BrowseState {
  if (!session.browse) throw new WorkflowError('CARD_INACTIVE', 'No folder is open.');
  return session.browse;
}

async function listPage(session: SignInSession, requestId: string): Promise<Screen> {
  const b = requireBrowse(session);
  const page = await session.identity.source.list(b.container, {
    prefix: b.prefix + b.filter,
    pageSize: PAGE_SIZE,
    token: b.pageTokens[b.page],
  });
  b.nextToken = page.nextToken;
  let known = session.prefixes.get(b.container);
  if (!known) session.prefixes.set(b.container, (known = new Set()));
  for (let p: string | undefined = b.prefix; p; p = parentOf(p)) known.add(p);
  for (const f of page.folders) known.add(f);
  const objects = page.objects.filter((o) => !o.key.endsWith('/'));
  for (const o of objects) session.objects.set(objectKey(b.container, o.key), o);
  return {
    kind: 'files',
    requestId,
    container: b.container,
    prefix: b.prefix,
    parentPrefix: parentOf(b.prefix),
    filter: b.filter,
    folders: page.folders,
    objects,
    nextToken: page.nextToken,
    hasPrevious: b.page > 0,
    pageNumber: b.page + 1,
  };
}
