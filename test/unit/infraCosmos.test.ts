import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTAINER_SPECS, DEFAULT_COSMOS_DATABASE, DEFAULT_REQUEST_TTL_DAYS } from '../../src/adapters/store/cosmosContainers';

/**
 * infra/cosmos.bicep declares what the Cosmos DB stores expect: the database and the same
 * containers, partition keys and TTL as src/adapters/store/cosmosContainers.ts (which is also what
 * the cosmosdb-server tests create their containers from). There is no Bicep CLI here, so the
 * file is read by a small parser that knows just enough Bicep: comments, '…' strings, and objects
 * and arrays whose entries are `key: value` or one value per line.
 */

const BICEP = readFileSync(join(__dirname, '..', '..', 'infra', 'cosmos.bicep'), 'utf8');

/** The text with every `//` and `/* … *\/` comment blanked (strings kept), offsets unchanged. */
function withoutComments(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === "'") {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (text.startsWith('//', i)) {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (text.startsWith('/*', i)) {
      const stop = text.indexOf('*/', i) + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index just past the string literal opening at `at` ('…', with \' escapes). */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === "'") return i + 1;
  }
  throw new Error(`unterminated string at ${at}`);
}

/** Index just past the bracket that closes the one opening at `at` ({ or [), skipping strings. */
function closing(text: string, at: number): number {
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") i = stringEnd(text, i) - 1;
    else if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error(`unbalanced bracket at ${at}`);
}

type Value = string | Value[] | { [key: string]: Value };

/** A value's raw text parsed: '…' → its content, {…} → object, […] → array, anything else → its trimmed source text. */
function parseValue(raw: string): Value {
  const t = raw.trim();
  if (t.startsWith("'") && stringEnd(t, 0) === t.length) return t.slice(1, -1).replace(/\\'/g, "'");
  if (t.startsWith('{') && closing(t, 0) === t.length) return parseObject(t.slice(1, -1));
  if (t.startsWith('[') && closing(t, 0) === t.length) return entries(t.slice(1, -1)).map(parseValue);
  return t;
}

/** The entries of an object or array body: split on newlines and commas outside brackets and strings. */
function entries(body: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "'") i = stringEnd(body, i) - 1;
    else if (c === '{' || c === '[' || c === '(') i = closing(body, i) - 1;
    else if (c === '\n' || c === ',') {
      out.push(body.slice(start, i));
      start = i + 1;
    }
  }
  out.push(body.slice(start));
  return out.map((e) => e.trim()).filter((e) => e !== '');
}

function parseObject(body: string): { [key: string]: Value } {
  const out: { [key: string]: Value } = {};
  for (const entry of entries(body)) {
    const m = /^([A-Za-z_][\w]*|'[^']*')\s*:\s*([\s\S]*)$/.exec(entry);
    assert.ok(m, `an object entry is key: value: ${entry}`);
    const key = m[1]!.replace(/^'|'$/g, '');
    assert.ok(!(key in out), `key ${key} appears once`);
    out[key] = parseValue(m[2]!);
  }
  return out;
}

interface BicepResource {
  symbol: string;
  type: string;
  apiVersion: string;
  condition?: string;
  body: { [key: string]: Value };
}

const CODE = withoutComments(BICEP);

function resources(): BicepResource[] {
  const out: BicepResource[] = [];
  for (const m of CODE.matchAll(/^resource\s+(\w+)\s+'([^'@]+)@([^']+)'\s*=\s*(?:if\s*(\(.*?\))\s*)?\{/gm)) {
    const open = m.index! + m[0].length - 1;
    out.push({ symbol: m[1]!, type: m[2]!, apiVersion: m[3]!, condition: m[4], body: parseObject(CODE.slice(open + 1, closing(CODE, open) - 1)) });
  }
  return out;
}

function params(): Map<string, { type: string; default?: Value }> {
  const out = new Map<string, { type: string; default?: Value }>();
  for (const m of CODE.matchAll(/^param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+))?$/gm)) out.set(m[1]!, { type: m[2]!, ...(m[3] !== undefined ? { default: parseValue(m[3]) } : {}) });
  return out;
}

const obj = (v: Value | undefined, what: string): { [key: string]: Value } => {
  assert.ok(v && typeof v === 'object' && !Array.isArray(v), `${what} is an object: ${JSON.stringify(v)}`);
  return v;
};

const ACCOUNT = 'Microsoft.DocumentDB/databaseAccounts';
const DATABASE = `${ACCOUNT}/sqlDatabases`;
const CONTAINER = `${DATABASE}/containers`;

describe('infra/cosmos.bicep matches the Cosmos DB stores', () => {
  const all = resources();
  const byType = (type: string): BicepResource[] => all.filter((r) => r.type === type);

  it('the parser reads the template: one account, one database, a container per design, a role assignment', () => {
    const containers = Object.keys(CONTAINER_SPECS).map(() => CONTAINER);
    assert.deepEqual(all.map((r) => r.type).sort(), [ACCOUNT, DATABASE, ...containers, `${ACCOUNT}/sqlRoleAssignments`].sort());
    assert.equal(new Set(all.map((r) => r.apiVersion)).size, 1, 'one API version throughout');
  });

  it('the database is a parameter whose default is the stores’ default (COSMOS_DATABASE)', () => {
    const [database] = byType(DATABASE);
    const [account] = byType(ACCOUNT);
    assert.equal(database!.body.parent, account!.symbol);
    assert.equal(database!.body.name, 'databaseName');
    assert.equal(obj(obj(database!.body.properties, 'properties').resource, 'resource').id, 'databaseName');
    assert.equal(params().get('databaseName')?.default, DEFAULT_COSMOS_DATABASE);
  });

  it('every container of cosmosContainers.ts, with its partition key path, and no other', () => {
    const [database] = byType(DATABASE);
    const declared = byType(CONTAINER).map((c) => {
      const resource = obj(obj(c.body.properties, `${c.symbol}.properties`).resource, `${c.symbol}.properties.resource`);
      const partitionKey = obj(resource.partitionKey, `${c.symbol} partitionKey`);
      assert.equal(c.body.parent, database!.symbol, `${c.symbol} is in the database`);
      assert.equal(c.body.name, resource.id, `${c.symbol}: name and resource.id agree`);
      assert.equal(partitionKey.kind, 'Hash');
      assert.equal(partitionKey.version, '2');
      assert.equal(resource.uniqueKeyPolicy, undefined, `${c.symbol}: no unique key policy (the audit id scheme is the conditional write)`);
      return { id: resource.id, partitionKey: partitionKey.paths };
    });
    const expected = Object.values(CONTAINER_SPECS).map((d) => ({ id: d.id, partitionKey: [d.partitionKey] }));
    const byId = (a: { id: Value }, b: { id: Value }) => String(a.id).localeCompare(String(b.id));
    assert.deepEqual(declared.sort(byId), expected.sort(byId));
  });

  it('requests expire after requestTtlDays (default as in cosmosContainers.ts); documents by their own ttl; audit and host keys never', () => {
    assert.equal(params().get('requestTtlDays')?.default, String(DEFAULT_REQUEST_TTL_DAYS));
    assert.equal(CONTAINER_SPECS.requests.defaultTtlSeconds, DEFAULT_REQUEST_TTL_DAYS * 86_400);
    assert.equal(CONTAINER_SPECS.documents.defaultTtlSeconds, -1, 'TTL on, no default: only items with a ttl expire');
    const expected: Record<string, string | undefined> = {
      [CONTAINER_SPECS.requests.id]: 'requestTtlDays > 0 ? requestTtlDays * 86400 : -1',
      [CONTAINER_SPECS.documents.id]: '-1',
      [CONTAINER_SPECS.audit.id]: undefined,
      [CONTAINER_SPECS.hostKeys.id]: undefined,
    };
    assert.deepEqual(Object.keys(expected).sort(), Object.values(CONTAINER_SPECS).map((d) => d.id).sort(), 'every container is covered here');
    for (const c of byType(CONTAINER)) {
      const resource = obj(obj(c.body.properties, 'properties').resource, 'resource');
      assert.equal(resource.defaultTtl, expected[String(resource.id)], `${String(resource.id)} TTL`);
    }
  });

  it('the account: serverless, TLS 1.2, keys off by default and never an output, no container changes by key', () => {
    const [account] = byType(ACCOUNT);
    const properties = obj(account!.body.properties, 'account properties');
    assert.deepEqual(properties.capabilities, [{ name: 'EnableServerless' }]);
    assert.equal(properties.minimalTlsVersion, 'Tls12');
    assert.equal(properties.disableLocalAuth, 'disableLocalAuth');
    assert.equal(params().get('disableLocalAuth')?.default, 'true');
    assert.equal(properties.disableKeyBasedMetadataWriteAccess, 'true');
    assert.doesNotMatch(CODE, /listKeys|listConnectionStrings|primaryMasterKey/i, 'no key is read or output');
    const outputs = [...CODE.matchAll(/^output\s+(\w+)\s+\w+\s*=\s*(.+)$/gm)].map((m) => [m[1], m[2]!.trim()]);
    assert.deepEqual(outputs, [['endpoint', 'account.properties.documentEndpoint'], ['database', 'database.name']]);
  });

  it("FileFerry's identity gets the Built-in Data Contributor role (data plane only), when one is given", () => {
    const [assignment] = byType(`${ACCOUNT}/sqlRoleAssignments`);
    assert.equal(assignment!.condition, '(!empty(dataContributorPrincipalId))');
    assert.match(CODE, /var dataContributorRoleId = '00000000-0000-0000-0000-000000000002'/);
    const properties = obj(assignment!.body.properties, 'role assignment properties');
    assert.equal(properties.roleDefinitionId, '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}');
    assert.equal(properties.principalId, 'dataContributorPrincipalId');
  });
});
