import { strict as assert } from 'node:assert';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkLayers, formatViolation, importsOf, type Violation } from '../support/layerRules';
import { tempDir } from '../support/tmp';

// The rule lines the checker prints, spelled out so a reworded rule is a visible change here.
const DOMAIN = 'domain/ may import only domain/ and Node built-ins (no npm packages)';
const PORTS = 'ports/ may import only domain/, ports/ and Node built-ins';
const TRANSFER = 'transfer/ (the engine) may import only domain/, ports/, transfer/ and Node built-ins (no npm packages, adapters, workflow, bot, ui or cli)';
const WORKFLOW = 'workflow/ may import only domain/, ports/, transfer/, workflow/ and Node built-ins (no adapters, bot/ui/cli code, SDKs or other npm packages)';
const DESTINATION = 'adapters/destination/ may import only domain/, ports/, transfer/, npm packages and adapters/destination/ (adapters never call each other; only the registry composes them)';
const BOT = 'bot/ may import only domain/, ports/, transfer/, workflow/, ui/, bot/, infrastructure and npm packages (never adapters/)';
const UI = 'ui/ may import only domain/, ports/, transfer/, workflow/, ui/, bot/, infrastructure and npm packages (never adapters/)';
const ROOTS = 'roots (index.ts, cli/, worker.ts) may import adapters only through src/adapters/registry.ts';
const INFRASTRUCTURE = 'infrastructure (top-level src/*.ts) may import only domain/, ports/, workflow/, npm packages and each other (no adapters)';

/** Writes `files` (path under the fixture → text) into a fresh temp folder and checks its src/. */
async function violationsIn(files: Record<string, string>): Promise<Violation[]> {
  const dir = await tempDir('layers');
  try {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir.path, path)), { recursive: true });
      await writeFile(join(dir.path, path), text);
    }
    return checkLayers(join(dir.path, 'src'));
  } finally {
    await dir.remove();
  }
}

/** Adapter files the fixtures import, so relative specifiers resolve to real files. */
const ADAPTERS = {
  'src/adapters/source/s3Source.ts': "import { S3Client } from '@aws-sdk/client-s3';\nexport const s3 = S3Client;\n",
  'src/adapters/destination/sftpDestination.ts': "import { Client } from 'ssh2';\nimport { sftpError } from './sftpErrors';\nexport const sftp = [Client, sftpError];\n",
  'src/adapters/destination/sftpErrors.ts': "import { TransferError } from '../../domain/errors';\nexport const sftpError = TransferError;\n",
  'src/adapters/registry.ts': "import { s3 } from './source/s3Source';\nimport { sftp } from './destination/sftpDestination';\nimport type { AppConfig } from '../config';\nexport const kinds = { s3, sftp };\n",
};

describe('layer rules', () => {
  it('src/ has no forbidden import', () => {
    const violations = checkLayers();
    assert.ok(
      violations.length === 0,
      `${violations.length} forbidden import(s) in src/ (rules in test/support/layerRules.ts):\n  ${violations.map(formatViolation).join('\n  ')}`,
    );
  });

  it('passes a tree where every layer imports only what it may', async () => {
    assert.deepEqual(
      await violationsIn({
        ...ADAPTERS,
        'src/domain/errors.ts': "import { inspect } from 'node:util';\nimport { EventEmitter } from 'events';\nexport class TransferError extends Error {}\n",
        'src/domain/requestRecord.ts': "import type { TransferError } from './errors';\nexport type R = TransferError;\n",
        'src/ports/storageSource.ts': "import type { R } from '../domain/requestRecord';\nexport interface StorageSource { r: R }\n",
        'src/transfer/engine.ts': "import type { StorageSource } from '../ports/storageSource';\nimport { createHash } from 'node:crypto';\n",
        'src/workflow/requestWorkflow.ts': "import { engine } from '../transfer/engine.js';\nimport type { StorageSource } from '../ports/storageSource';\n",
        'src/bot/fileFerryBot.ts': "import { TeamsActivityHandler } from 'botbuilder';\nimport { RequestWorkflow } from '../workflow/requestWorkflow';\nimport { verbs } from '../ui/verbs';\n",
        'src/ui/verbs.ts': "import type { R } from '../domain/requestRecord';\nexport const verbs = {};\n",
        'src/config.ts': "import { z } from 'zod';\nimport { log } from './log';\n",
        'src/log.ts': "import pino from 'pino';\nexport const log = pino();\n",
        'src/server.ts': "import restify from 'restify';\nimport type { AppConfig } from './config';\n",
        'src/index.ts': "import { kinds } from './adapters/registry';\nimport { FileFerryBot } from './bot/fileFerryBot';\nimport { log } from './log';\n",
        'src/cli/main.ts': "const { kinds } = require('../adapters/registry') as typeof import('../adapters/registry');\nimport pkg from '../../package.json';\n",
      }),
      [],
    );
  });

  it('domain/: an npm package, also through export … from', async () => {
    assert.deepEqual(
      await violationsIn({
        'src/domain/destinationSpec.ts': "import { z } from 'zod';\nexport { thing } from '../workflow/screens';\n",
      }),
      [
        { file: 'src/domain/destinationSpec.ts', line: 1, imports: 'zod', rule: DOMAIN },
        { file: 'src/domain/destinationSpec.ts', line: 2, imports: '../workflow/screens', rule: DOMAIN },
      ],
    );
  });

  it('ports/: workflow, even as import type', async () => {
    assert.deepEqual(
      await violationsIn({ 'src/ports/auditLog.ts': "import type { Screen } from '../workflow/screens';\n" }),
      [{ file: 'src/ports/auditLog.ts', line: 1, imports: '../workflow/screens', rule: PORTS }],
    );
  });

  it('transfer/: an npm package and workflow', async () => {
    assert.deepEqual(
      await violationsIn({ 'src/transfer/engine.ts': "import pino from 'pino';\nimport { Screens } from '../workflow/screens';\n" }),
      [
        { file: 'src/transfer/engine.ts', line: 1, imports: 'pino', rule: TRANSFER },
        { file: 'src/transfer/engine.ts', line: 2, imports: '../workflow/screens', rule: TRANSFER },
      ],
    );
  });

  it('workflow/: an SDK, a lazy require of an adapter, bot code and a .js-suffixed adapter path', async () => {
    assert.deepEqual(
      await violationsIn({
        ...ADAPTERS,
        'src/bot/proactive.ts': 'export const send = 1;\n',
        'src/workflow/preflight.ts': [
          "import { S3Client } from '@aws-sdk/client-s3';",
          'export function source() {',
          "  const { S3Source } = require('../adapters/source/s3Source');",
          '  return S3Source;',
          '}',
          "const later = () => import('../bot/proactive');",
          "export * as sftp from '../adapters/destination/sftpDestination.js';",
        ].join('\n'),
      }),
      [
        { file: 'src/workflow/preflight.ts', line: 1, imports: '@aws-sdk/client-s3', rule: WORKFLOW },
        { file: 'src/workflow/preflight.ts', line: 3, imports: '../adapters/source/s3Source', rule: WORKFLOW },
        { file: 'src/workflow/preflight.ts', line: 6, imports: '../bot/proactive', rule: WORKFLOW },
        { file: 'src/workflow/preflight.ts', line: 7, imports: '../adapters/destination/sftpDestination.js', rule: WORKFLOW },
      ],
    );
  });

  it('a multi-line import is reported at the line of its specifier', async () => {
    assert.deepEqual(
      await violationsIn({
        'src/workflow/transferJobs.ts': "import {\n  S3Client,\n  GetObjectCommand,\n} from '@aws-sdk/client-s3';\n",
      }),
      [{ file: 'src/workflow/transferJobs.ts', line: 4, imports: '@aws-sdk/client-s3', rule: WORKFLOW }],
    );
  });

  it('imports in comments, strings, templates and regexes do not count', async () => {
    assert.deepEqual(
      await violationsIn({
        'src/workflow/screens.ts': [
          "// import { S3Source } from '../adapters/source/s3Source';",
          '/* const x = require("../bot/proactive");',
          "   import 'zod'; */",
          "const hint = \"import x from '../adapters/source/s3Source'\";",
          "const script = `const c = require('ssh2')`;",
          "const pattern = /require\\('x'\\)/;",
          "const hint2 = 'it\\'s from \"zod\"'; // an escaped quote inside a string",
          'export const ready = sessions.require(id);',
        ].join('\n'),
      }),
      [],
    );
  });

  it('adapters/: another kind, workflow and config; their own kind folder is fine', async () => {
    assert.deepEqual(
      await violationsIn({
        ...ADAPTERS,
        'src/adapters/destination/configuredDestinations.ts': [
          "import { sftpError } from './sftpErrors';",
          "import { s3 } from '../source/s3Source';",
          "import { choices } from '../../workflow/destinationChoices';",
          "import type { AppConfig } from '../../config';",
        ].join('\n'),
      }),
      [
        { file: 'src/adapters/destination/configuredDestinations.ts', line: 2, imports: '../source/s3Source', rule: DESTINATION },
        { file: 'src/adapters/destination/configuredDestinations.ts', line: 3, imports: '../../workflow/destinationChoices', rule: DESTINATION },
        { file: 'src/adapters/destination/configuredDestinations.ts', line: 4, imports: '../../config', rule: DESTINATION },
      ],
    );
  });

  it('bot/ and ui/: never an adapter, not even the registry', async () => {
    assert.deepEqual(
      await violationsIn({
        ...ADAPTERS,
        'src/bot/cardActions.ts': "import { s3 } from '../adapters/source/s3Source';\n",
        'src/ui/format.ts': "import { kinds } from '../adapters/registry';\n",
      }),
      [
        { file: 'src/bot/cardActions.ts', line: 1, imports: '../adapters/source/s3Source', rule: BOT },
        { file: 'src/ui/format.ts', line: 1, imports: '../adapters/registry', rule: UI },
      ],
    );
  });

  it('roots: a concrete adapter is forbidden, the registry (file or folder) is the way in', async () => {
    assert.deepEqual(
      await violationsIn({
        ...ADAPTERS,
        'src/adapters/registry/sources.ts': "import { s3 } from '../source/s3Source';\n",
        'src/index.ts': "import { kinds } from './adapters/registry';\nimport { s3 } from './adapters/source/s3Source';\n",
        'src/cli/endpoints.ts': "import { sources } from '../adapters/registry/sources';\nimport { sftp } from '../adapters/destination/sftpDestination';\n",
        'src/worker.ts': "import { workflow } from './workflow/requestWorkflow';\nconst s = require('./adapters/source/s3Source');\n",
      }),
      [
        { file: 'src/cli/endpoints.ts', line: 2, imports: '../adapters/destination/sftpDestination', rule: ROOTS },
        { file: 'src/index.ts', line: 2, imports: './adapters/source/s3Source', rule: ROOTS },
        { file: 'src/worker.ts', line: 2, imports: './adapters/source/s3Source', rule: ROOTS },
      ],
    );
  });

  it('infrastructure (top-level files): no adapters, not even the registry', async () => {
    assert.deepEqual(
      await violationsIn({
        ...ADAPTERS,
        'src/metrics.ts': "import { Counter } from 'prom-client';\nimport { s3 } from './adapters/source/s3Source';\n",
        'src/config.ts': "import { kinds } from './adapters/registry';\n",
      }),
      [
        { file: 'src/config.ts', line: 1, imports: './adapters/registry', rule: INFRASTRUCTURE },
        { file: 'src/metrics.ts', line: 2, imports: './adapters/source/s3Source', rule: INFRASTRUCTURE },
      ],
    );
  });

  it('a file in no known layer is reported once, so a new folder gets a rule', async () => {
    assert.deepEqual(await violationsIn({ 'src/helpers/misc.ts': "import { join } from 'node:path';\n" }), [
      {
        file: 'src/helpers/misc.ts',
        line: 1,
        imports: '(any)',
        rule: 'this file is in no known layer: move it into one, or give its folder a rule in test/support/layerRules.ts',
      },
    ]);
  });

  it('importsOf finds every import form, once per line, and keeps code inside ${} of a template', () => {
    const source = [
      "import a from 'a';",
      "import type { B } from 'b';",
      "import * as c from 'c';",
      "import 'd';",
      "export { e } from 'e';",
      "export type * from 'f';",
      "const g = require('g') as typeof import('g');",
      'const h = `${require(`h`)}`;',
      "import i = require('i');",
      'const j = require(name);',
    ].join('\n');
    assert.deepEqual(
      importsOf(source).map((ref) => `${ref.line}:${ref.specifier}`),
      ['1:a', '2:b', '3:c', '4:d', '5:e', '6:f', '7:g', '8:h', '9:i'],
    );
  });
});
