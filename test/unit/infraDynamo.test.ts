import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { DEFAULT_TABLE_PREFIX, TABLE_DESIGN, TABLE_PREFIX_PATTERN, createTableInput, keyAttributes, tableNames, type TableDesign, type TableRole } from '../../src/adapters/store/dynamoTables';

/**
 * infra/dynamodb.yaml declares what the DynamoDB stores expect: the same keys, attribute types,
 * indexes, TTL attribute and table names as src/adapters/store/dynamoTables.ts (which is also what
 * the dynalite tests create their tables from), plus on-demand billing, point-in-time recovery and
 * encryption, and a policy that allows exactly the calls the adapters make.
 */

const ROOT = join(__dirname, '..', '..');
const STORE_DIR = join(ROOT, 'src', 'adapters', 'store');

interface CfnTable {
  Type: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Properties: {
    TableName: unknown;
    BillingMode?: string;
    AttributeDefinitions: Array<{ AttributeName: string; AttributeType: string }>;
    KeySchema: Array<{ AttributeName: string; KeyType: string }>;
    GlobalSecondaryIndexes?: Array<{ IndexName: string; KeySchema: Array<{ AttributeName: string; KeyType: string }>; Projection: { ProjectionType: string } }>;
    TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
    PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled: boolean };
    SSESpecification?: { SSEEnabled: boolean };
    DeletionProtectionEnabled?: boolean;
    ProvisionedThroughput?: unknown;
  };
}

interface Template {
  Parameters: Record<string, { Type: string; Default?: string; AllowedPattern?: string }>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> } & Partial<CfnTable>>;
}

const template = load(readFileSync(join(ROOT, 'infra', 'dynamodb.yaml'), 'utf8')) as Template;

/** `Fn::Sub` with the TablePrefix parameter (the only substitution table names use). */
function tableName(value: unknown, prefix: string): string {
  if (typeof value === 'string') return value;
  const sub = (value as { 'Fn::Sub'?: unknown })?.['Fn::Sub'];
  assert.equal(typeof sub, 'string', `TableName is a string or Fn::Sub of one: ${JSON.stringify(value)}`);
  const resolved = (sub as string).replace(/\$\{TablePrefix\}/g, prefix);
  assert.doesNotMatch(resolved, /\$\{/, `TableName substitutes only TablePrefix: ${sub}`);
  return resolved;
}

const roles = Object.keys(TABLE_DESIGN) as TableRole[];
const sortBy = <T>(list: T[] | undefined, key: (t: T) => string): T[] => [...(list ?? [])].sort((a, b) => key(a).localeCompare(key(b)));

describe('infra/dynamodb.yaml matches the DynamoDB table design', () => {
  it('declares exactly the tables of the design, under their logical IDs', () => {
    const tables = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table').map(([id]) => id).sort();
    assert.deepEqual(tables, roles.map((r) => TABLE_DESIGN[r].logicalId).sort());
  });

  it('a TablePrefix parameter whose default is the code’s default prefix', () => {
    const p = template.Parameters.TablePrefix!;
    assert.equal(p.Type, 'String');
    assert.equal(p.Default, DEFAULT_TABLE_PREFIX);
    assert.equal(p.AllowedPattern, TABLE_PREFIX_PATTERN, 'the template allows the prefixes the code accepts');
    const pattern = new RegExp(p.AllowedPattern!);
    assert.ok(pattern.test('FileFerry') && pattern.test('fileferry-prod.') && pattern.test(''), 'ordinary prefixes are allowed');
    assert.ok(!pattern.test('has space') && !pattern.test('x'.repeat(201)), 'names DynamoDB refuses are not');
  });

  for (const role of roles) {
    const design: TableDesign = TABLE_DESIGN[role];
    describe(`${design.logicalId} (${role})`, () => {
      const table = (): CfnTable => template.Resources[design.logicalId] as unknown as CfnTable;

      it('has the table name the code uses, for the default prefix and any other', () => {
        for (const prefix of [DEFAULT_TABLE_PREFIX, 'acme-prod-']) assert.equal(tableName(table().Properties.TableName, prefix), tableNames(prefix)[role]);
      });

      it('has the key schema and attribute types of the design, and defines no other attribute', () => {
        const props = table().Properties;
        assert.deepEqual(props.KeySchema, [
          { AttributeName: design.key.partition.name, KeyType: 'HASH' },
          ...(design.key.sort ? [{ AttributeName: design.key.sort.name, KeyType: 'RANGE' }] : []),
        ]);
        assert.deepEqual(
          sortBy(props.AttributeDefinitions, (a) => a.AttributeName),
          sortBy(keyAttributes(design).map((a) => ({ AttributeName: a.name, AttributeType: a.type })), (a) => a.AttributeName),
        );
      });

      it('has the global secondary indexes of the design (names, keys, projection), and no others', () => {
        const declared = sortBy(table().Properties.GlobalSecondaryIndexes, (i) => i.IndexName);
        const expected = sortBy(
          design.indexes.map((i) => ({
            IndexName: i.name,
            KeySchema: [{ AttributeName: i.partition.name, KeyType: 'HASH' }, ...(i.sort ? [{ AttributeName: i.sort.name, KeyType: 'RANGE' }] : [])],
            Projection: { ProjectionType: i.projection },
          })),
          (i) => i.IndexName,
        );
        assert.deepEqual(declared, expected);
      });

      it('is exactly what the dynalite tests create (createTableInput), keys, attributes and indexes alike', () => {
        const props = table().Properties;
        const input = createTableInput(design, tableNames()[role]);
        assert.equal(tableName(props.TableName, DEFAULT_TABLE_PREFIX), input.TableName);
        assert.equal(props.BillingMode, input.BillingMode);
        assert.deepEqual(props.KeySchema, input.KeySchema);
        assert.deepEqual(sortBy(props.AttributeDefinitions, (a) => a.AttributeName), sortBy(input.AttributeDefinitions as CfnTable['Properties']['AttributeDefinitions'], (a) => a.AttributeName));
        assert.deepEqual(sortBy(props.GlobalSecondaryIndexes, (i) => i.IndexName), sortBy(input.GlobalSecondaryIndexes as CfnTable['Properties']['GlobalSecondaryIndexes'], (i) => i.IndexName));
      });

      it(design.ttlAttribute ? `expires items by TTL on ${design.ttlAttribute}` : 'has no TTL', () => {
        const ttl = table().Properties.TimeToLiveSpecification;
        assert.deepEqual(ttl, design.ttlAttribute ? { AttributeName: design.ttlAttribute, Enabled: true } : undefined);
      });

      it('is on-demand, with point-in-time recovery, encryption at rest, deletion protection, and kept when the stack goes', () => {
        const t = table();
        assert.equal(t.Properties.BillingMode, 'PAY_PER_REQUEST');
        assert.equal(t.Properties.ProvisionedThroughput, undefined);
        assert.deepEqual(t.Properties.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
        assert.equal(t.Properties.SSESpecification?.SSEEnabled, true);
        assert.equal(t.Properties.DeletionProtectionEnabled, true);
        assert.equal(t.DeletionPolicy, 'Retain');
        assert.equal(t.UpdateReplacePolicy, 'Retain');
      });
    });
  }

  describe('StorePolicy', () => {
    /** Every DynamoDB call the store adapters make, from their source: `new XxxCommand(` of client-dynamodb or lib-dynamodb. */
    function callsInAdapters(): Set<string> {
      const lib: Record<string, string> = { Get: 'GetItem', Put: 'PutItem', Delete: 'DeleteItem', Update: 'UpdateItem', BatchGet: 'BatchGetItem', BatchWrite: 'BatchWriteItem', TransactGet: 'TransactGetItems', TransactWrite: 'TransactWriteItems' };
      const calls = new Set<string>();
      for (const file of readdirSync(STORE_DIR).filter((f) => /^dynamo.*\.ts$/.test(f))) {
        const source = readFileSync(join(STORE_DIR, file), 'utf8');
        for (const m of source.matchAll(/\bnew (\w+?)Command\(/g)) calls.add(lib[m[1]!] ?? m[1]!);
      }
      return calls;
    }
    const statement = () => (template.Resources.StorePolicy!.Properties.PolicyDocument as { Statement: Array<{ Effect: string; Action: string[]; Resource: unknown[] }> }).Statement;

    it('allows exactly the calls the adapters make, and the adapters use no transactions (dynalite has none)', () => {
      const calls = callsInAdapters();
      assert.deepEqual([...calls].sort(), ['DeleteItem', 'DescribeTable', 'GetItem', 'PutItem', 'Query']);
      const allowed = statement().filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action);
      assert.deepEqual(allowed.sort(), [...calls].map((c) => `dynamodb:${c}`).sort());
    });

    it('covers each table, and the indexes of the table that has them', () => {
      const resources = JSON.stringify(statement().flatMap((s) => s.Resource));
      for (const role of roles) {
        const id = TABLE_DESIGN[role].logicalId;
        assert.ok(resources.includes(JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] })), `${id} is covered`);
        if (TABLE_DESIGN[role].indexes.length) assert.ok(resources.includes(`\${${id}.Arn}/index/*`), `${id}'s indexes are covered`);
      }
    });
  });
});
