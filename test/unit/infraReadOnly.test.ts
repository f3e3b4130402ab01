import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';

interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string;
}

/** Whether an IAM action pattern (with * wildcards) covers `action`. */
const covers = (pattern: string, action: string): boolean => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i').test(action);

const WRITES = ['s3:PutObject', 's3:PutObjectAcl', 's3:DeleteObject', 's3:DeleteBucket', 's3:PutBucketPolicy', 's3:PutBucketAcl', 's3:GetObjectAcl', 's3:AbortMultipartUpload', 's3:RestoreObject', 's3:ReplicateObject'];
const READS = ['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:ListAllMyBuckets', 's3:GetBucketLocation'];

function check(statements: Statement[], where: string): void {
  const allowed = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action);
  const denied = statements.filter((s) => s.Effect === 'Deny').flatMap((s) => s.Action);
  assert.deepEqual([...allowed].sort(), [...READS].sort(), `${where}: exactly the read actions are allowed`);
  for (const w of WRITES) {
    if (w === 's3:AbortMultipartUpload' || w === 's3:RestoreObject' || w === 's3:ReplicateObject') {
      assert.ok(!allowed.some((a) => covers(a, w)), `${where}: ${w} is not allowed`);
      continue;
    }
    assert.ok(!allowed.some((a) => covers(a, w)), `${where}: ${w} is not allowed`);
    assert.ok(denied.some((d) => covers(d, w)), `${where}: ${w} is explicitly denied`);
  }
}

describe('infra: sign-in permissions are read-only', () => {
  it('the IAM policy allows only the five reads and denies every Put, Delete and ACL action', () => {
    const policy = JSON.parse(readFileSync('infra/aws-readonly-policy.json', 'utf8')) as { Statement: Statement[] };
    check(policy.Statement, 'aws-readonly-policy.json');
  });

  it('the permission set template carries the same policy', () => {
    const template = load(readFileSync('infra/aws-permission-set.yaml', 'utf8')) as { Resources: Record<string, { Type: string; Properties: { InlinePolicy: { Statement: Statement[] } } }> };
    const set = Object.values(template.Resources).find((r) => r.Type === 'AWS::SSO::PermissionSet');
    assert.ok(set, 'a permission set is declared');
    check(set.Properties.InlinePolicy.Statement, 'aws-permission-set.yaml');
    const policy = JSON.parse(readFileSync('infra/aws-readonly-policy.json', 'utf8')) as { Statement: Statement[] };
    assert.deepEqual(set.Properties.InlinePolicy.Statement, policy.Statement, 'the template and the JSON policy are the same document');
  });

  it('the Azure role assignment is Storage Blob Data Reader and nothing else', () => {
    const bicep = readFileSync('infra/azure-blob-reader.bicep', 'utf8');
    const roles = [...bicep.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/g)].map((m) => m[1]);
    assert.deepEqual(roles, ['2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'], 'only the built-in Storage Blob Data Reader role');
    assert.equal((bicep.match(/Microsoft\.Authorization\/roleAssignments@/g) ?? []).length, 1);
    assert.ok(!/Contributor|Owner/i.test(bicep.replace(/\/\/.*$/gm, '')), 'no contributor or owner role');
  });
});
