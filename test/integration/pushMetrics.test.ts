import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BotHarness } from '../support/botHarness';
import { freePort } from '../support/ports';
import { until } from '../support/pushHarness';
import { tempDir } from '../support/tmp';

/**
 * Issue 14: push mode inside the bot (FILEFERRY_PUSH_RULES_FILE, the composition root) reports to
 * the bot's own GET /metrics: objects seen, sent (and bytes), failed, waiting, and the lag from
 * arrival to sent. Three rules over local folders: one that sends 3 files, one whose SFTP
 * destination refuses connections (1 final failure), one whose window is closed (1 waiting).
 */

const PASSWORD_VAR = 'PUSH_TEST_METRICS_PASSWORD';

type Sample = { name: string; labels: Record<string, string>; value: number };

/** The Prometheus text format, as far as these counters need: `name{a="b",…} value`. */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

/** HH:MM UTC, `hours` from now. */
function hhmm(hours: number): string {
  const d = new Date(Date.now() + hours * 3_600_000);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

describe('push mode: /metrics of the bot after sends, a failure and a held file', function () {
  this.timeout(120_000);
  let dir: { path: string; remove: () => Promise<void> };
  let bot: BotHarness | undefined;
  const sizes = [1000, 23_456, 70_001];

  before(async () => {
    dir = await tempDir('push-metrics');
    process.env[PASSWORD_VAR] = randomBytes(8).toString('hex');
    const inbox = join(dir.path, 'outbound');
    for (const sub of ['good', 'bad', 'night']) await mkdir(join(inbox, sub), { recursive: true });
    // The files arrived ten minutes ago: the lag (arrival to sent) is then over 600 s, under 900.
    const arrived = new Date(Date.now() - 600_000);
    for (const [i, size] of sizes.entries()) {
      const f = join(inbox, 'good', `g${i}.csv`);
      await writeFile(f, randomBytes(size));
      await utimes(f, arrived, arrived);
    }
    await writeFile(join(inbox, 'bad', 'b.csv'), randomBytes(500));
    await writeFile(join(inbox, 'night', 'n.csv'), randomBytes(500));
    const rulesFile = join(dir.path, 'rules.json');
    const poll = { poll: { seconds: 1 } };
    await writeFile(rulesFile, JSON.stringify({
      settings: { scanSeconds: 0.2, retryBaseSeconds: 0.05, retryMaxSeconds: 0.1 },
      rules: [
        { name: 'good', source: `file://${inbox}/good/`, destination: { name: 'Outbox', folder: '/good/{name}' }, stability: 0, triggers: poll },
        { name: 'bad', source: `file://${inbox}/bad/`, destination: { name: 'Refusing SFTP' }, stability: 0, retries: 1, triggers: poll },
        { name: 'night', source: `file://${inbox}/night/`, destination: { name: 'Outbox', folder: '/night/{name}' }, stability: 0, window: { from: hhmm(2), to: hhmm(3) }, triggers: poll },
      ],
    }));
    const closed = await freePort();
    // Nothing listens there, so no key is ever compared; the config still wants one pinned.
    const noServerFingerprint = `SHA256:${createHash('sha256').update('no server listens here').digest('base64').replace(/=+$/, '')}`;
    bot = await BotHarness.start({
      config: {
        pushRulesFile: rulesFile,
        destinations: [
          { name: 'Outbox', spec: { protocol: 'local', root: join(dir.path, 'outbox'), folder: '/', label: 'Outbox' } },
          { name: 'Refusing SFTP', spec: { protocol: 'sftp', host: '127.0.0.1', port: closed, username: 'nobody', folder: '/in', hostKey: { fingerprint: noServerFingerprint }, passwordRef: `env:${PASSWORD_VAR}` } },
        ],
      },
    });
  });
  after(async () => {
    await bot?.close();
    delete process.env[PASSWORD_VAR];
    await dir?.remove();
  });

  it('counts 3 seen and sent (with their bytes and lag), 1 failed and 1 waiting, by rule', async () => {
    const scrape = async (): Promise<Sample[]> => {
      const res = await fetch(`${bot!.app.url}/metrics`);
      assert.equal(res.status, 200);
      return parse(await res.text());
    };
    const samples = await until('3 sent, 1 failed and nothing in flight', async () => {
      const s = await scrape();
      return value(s, 'fileferry_push_sent_total', { rule: 'good' }) === 3 && value(s, 'fileferry_push_failed_total', { rule: 'bad' }) === 1 && value(s, 'fileferry_push_waiting') === 1 && s;
    }, 60_000).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${(await scrape()).filter((x) => x.name.startsWith('fileferry_push')).map((x) => JSON.stringify(x)).join('\n')}`);
    });

    assert.equal(value(samples, 'fileferry_push_seen_total', { rule: 'good' }), 3);
    assert.equal(value(samples, 'fileferry_push_seen_total', { rule: 'bad' }), 1);
    assert.equal(value(samples, 'fileferry_push_seen_total', { rule: 'night' }), 1);
    assert.equal(value(samples, 'fileferry_push_sent_total', { rule: 'bad' }) ?? 0, 0);
    assert.equal(value(samples, 'fileferry_push_sent_total', { rule: 'night' }) ?? 0, 0);
    assert.equal(value(samples, 'fileferry_push_failed_total', { rule: 'good' }) ?? 0, 0);
    assert.equal(value(samples, 'fileferry_push_bytes_total', { rule: 'good' }), sizes.reduce((a, b) => a + b, 0));
    assert.equal(value(samples, 'fileferry_push_waiting'), 1, 'the file held by its closed window');

    assert.equal(value(samples, 'fileferry_push_lag_seconds_count', { rule: 'good' }), 3);
    assert.equal(value(samples, 'fileferry_push_lag_seconds_bucket', { rule: 'good', le: '300' }), 0);
    assert.equal(value(samples, 'fileferry_push_lag_seconds_bucket', { rule: 'good', le: '900' }), 3);
    const lagSum = value(samples, 'fileferry_push_lag_seconds_sum', { rule: 'good' })!;
    assert.ok(lagSum >= 3 * 600 && lagSum < 3 * 900, `lag sum ${lagSum}`);

    // What the counters say is what happened: the three files are in the outbox.
    for (const i of sizes.keys()) assert.equal((await readFile(join(dir.path, 'outbox', 'good', `g${i}.csv`))).length, sizes[i]);
  });
});
