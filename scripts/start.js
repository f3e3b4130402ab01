#!/usr/bin/env node
/**
 * `npm start`: the whole flow on this machine with no configuration.
 *  1. Seeds <FILEFERRY_DATA_DIR or ./data>/sources/fileferry-samples/… with a few sample files
 *     (a CSV, a JSON, a nested folder, a 4 MiB binary) unless the sources folder already has content.
 *  2. Builds dist/ if it is missing or stale, then starts the bot (node dist/src/index.js; local
 *     mode unless MicrosoftAppId is set).
 *  3. Starts the Microsoft 365 Agents Playground (scripts/playground.js) when it is there.
 *  4. Prints where to open the Playground and the Bot Framework Emulator URL.
 * Ctrl+C stops both.
 */
'use strict';
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { NODE_FLAGS } = require('./nodeFlags');
const { ensureBuilt } = require('./ensureBuilt');

const root = resolve(__dirname, '..');
const dataDir = resolve(root, process.env.FILEFERRY_DATA_DIR || './data');
const sources = join(dataDir, 'sources');
const port = process.env.PORT || '3978';

function seed() {
  if (existsSync(sources) && readdirSync(sources).length > 0) return false;
  const bucket = join(sources, 'fileferry-samples');
  const files = {
    'reports/2024/q1-sales.csv': 'region,month,amount\nnorth,2024-01,1200.50\nsouth,2024-01,830.00\nnorth,2024-02,1410.25\nsouth,2024-02,905.75\n',
    'reports/2024/q1-summary.json': JSON.stringify({ quarter: '2024-Q1', regions: 2, total: 4346.5, currency: 'EUR' }, null, 2) + '\n',
    'archive/2023/12/ledger.csv': 'date,account,debit,credit\n2023-12-01,1000,250.00,\n2023-12-01,4000,,250.00\n',
    'README.txt': 'Sample files for trying FileFerry locally. Pick one in the file picker and send it to the Local outbox.\n',
  };
  for (const [key, text] of Object.entries(files)) {
    const path = join(bucket, ...key.split('/'));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
  mkdirSync(join(bucket, 'binaries'), { recursive: true });
  writeFileSync(join(bucket, 'binaries', 'sample-4MiB.bin'), randomBytes(4 * 1024 * 1024));
  return true;
}

const children = [];
function start(name, args) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`${name} exited (${signal || code}); stopping.\n`);
      stop(code || 1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

if (seed()) process.stdout.write(`Seeded sample files in ${join(sources, 'fileferry-samples')}\n`);
try {
  ensureBuilt();
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
start('The bot', [...NODE_FLAGS, 'dist/src/index.js']);
const playground = join(__dirname, 'playground.js');
if (existsSync(playground)) start('The Agents Playground', [playground]);

const lines = [
  '',
  'FileFerry is starting.',
  existsSync(playground)
    ? '  Agents Playground:     http://localhost:56150   (open it in a browser and type "transfer")'
    : '  Agents Playground:     scripts/playground.js is not there yet; use the Emulator.',
  `  Bot Framework Emulator: http://127.0.0.1:${port}/api/messages   (no app ID, no password)`,
  `  Sample files:          ${sources}`,
  `  Local outbox:          ${join(dataDir, 'outbox')}`,
  '  Stop with Ctrl+C.',
  '',
];
process.stdout.write(lines.join('\n') + '\n');
