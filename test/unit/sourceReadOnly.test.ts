import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The storage sources are read-only by construction (PRODUCT.md: "the session can never write"):
 * these checks read the adapters' source text, so a write slipped in by a later change fails here
 * before it could ever run with a user's credentials.
 */
describe('storage sources are read-only', () => {
  const dir = join(__dirname, '..', '..', 'src', 'adapters', 'source');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  const text = (file: string): string => readFileSync(join(dir, file), 'utf8');

  /** Every name imported from @aws-sdk/* in a file, types included. */
  function awsImports(source: string): string[] {
    const names: string[] = [];
    for (const m of source.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'@aws-sdk\/[^']+'/g)) {
      for (const part of m[1]!.split(',')) {
        const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!.trim();
        if (name) names.push(name);
      }
    }
    return names;
  }

  it('s3Source.ts imports no S3 write command, only the read ones', () => {
    const source = text('s3Source.ts');
    assert.doesNotMatch(source, /\b(Put|Delete|Copy|Create|Upload|Complete|Abort|Restore|Write|Update|Select|Rename)\w*Command\b/);
    assert.doesNotMatch(source, /@aws-sdk\/lib-storage/);
    const allowed = new Set(['S3Client', 'ListBucketsCommand', 'GetBucketLocationCommand', 'ListObjectsV2Command', 'HeadObjectCommand', 'GetObjectCommand', 'GetObjectCommandOutput', 'S3ClientConfig']);
    const imported = awsImports(source);
    assert.ok(imported.includes('GetObjectCommand'), 'the check sees the imports');
    for (const name of imported) assert.ok(allowed.has(name), `s3Source.ts imports ${name}`);
  });

  it('no source adapter file names an S3 write command or imports node write APIs', () => {
    for (const file of files) {
      const source = text(file);
      assert.doesNotMatch(source, /\b(Put|Delete|Copy|Create|Upload|Complete|Abort|Restore|Write)\w*Command\b/, file);
      assert.doesNotMatch(source, /\b(writeFile|appendFile|createWriteStream|unlink|rmdir|rename|mkdir|truncate|chmod|chown)\b/, file);
      assert.doesNotMatch(source, /open\([^)]*'(w|a|r\+)/, file);
    }
  });

  it('azureBlobSource.ts calls no blob or container method that writes', () => {
    const source = text('azureBlobSource.ts');
    const writes = /\.(upload\w*|delete\w*|create\w*|set\w*|commit\w*|stage\w*|beginCopy\w*|syncCopy\w*|startCopy\w*|abortCopy\w*|undelete|append\w*|resize|clearPages|uploadPages|acquireLease|breakLease|generate\w*Sas\w*|getBlockBlobClient|getAppendBlobClient|getPageBlobClient|getBlobLeaseClient|getBlobBatchClient)\s*\(/;
    assert.doesNotMatch(source, writes);
  });
});
