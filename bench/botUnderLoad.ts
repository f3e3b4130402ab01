import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import type { ChatUser } from '../test/support/botHarness';
import { FakeConnector } from '../test/support/fakeConnector';
import { freePort } from '../test/support/ports';
import { remoteUser } from '../test/support/remoteChat';
import type { SshdServer } from '../test/support/sshdServer';
import { tempDir } from '../test/support/tmp';
import { NODE_FLAGS } from '../scripts/nodeFlags';
import type { LoopResult } from './benchResults';

/**
 * The bot's responsiveness while it moves bytes: the bot runs as its own process, as `npm start`
 * runs it (compiled, `node dist/src/index.js`), with the local defaults (local
 * sign-in, local folder source, SQLite in a fresh data folder) and a saved SFTP destination on the
 * bench's sshd. Users drive it over HTTP through a fake Bot Connector (test/support), each to the
 * confirm card of its own transfer; then all the confirms go at once, and `/healthz` is asked one
 * request at a time until the last transfer completes, each time followed by the same request to
 * a bystander process that only answers (the machine's floor). The same probe runs first with the
 * bot idle.
 */

const MiB = 1024 * 1024;
const READY = /FileFerry bot: http:\/\/localhost:(\d+)\/api\/messages/;
const SAVED = 'Bench SFTP';
const PASSWORD_VAR = 'FILEFERRY_BENCH_SFTP_PASSWORD';
const FORM = { environment: 'PROD', cloud: 'AWS', region: 'us-east-1', assignmentGroup: 'DevOps', priority: '3', justification: 'Bench: event-loop responsiveness under load.' };

export interface BotUnderLoadOptions {
  /** The folder bench/fileferrySnapshot.ts made: bin/, dist/, scripts/, package.json. */
  app: string;
  sshd: SshdServer;
  mib: number;
  transfers: number;
  log: (line: string) => void;
}

/** The bot's environment: this one without any FileFerry or bot setting, plus `settings`. */
function botEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(FILEFERRY_|Microsoft|SERVICENOW_|COSMOS_)/.test(k) || ['PORT', 'NODE_ENV', 'LOG_LEVEL'].includes(k)) continue;
    env[k] = v;
  }
  return { ...env, ...settings };
}

/** How `npm start` starts the bot (scripts/start.js): `node <flags> dist/src/index.js`, here from the bench's snapshot. */
function botArgv(app: string): { argv: string[]; label: string } {
  return { argv: [...NODE_FLAGS, join(app, 'dist', 'src', 'index.js')], label: 'compiled, node dist/src/index.js as npm start runs it' };
}

async function startBot(app: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; output: () => string; label: string }> {
  const { argv, label } = botArgv(app);
  const child = spawn(process.execPath, argv, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onData = (d: Buffer): void => void (output = (output + d.toString()).slice(-100_000));
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`The bot did not start within 120 s:\n${output}`)), 120_000);
    child.stdout!.on('data', () => {
      const m = READY.exec(output);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`The bot exited (${code}) before listening:\n${output}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, output: () => output, label };
}

/** One GET /healthz on a kept-alive connection: milliseconds from the request to the end of the answer. */
function healthz(url: string, agent: Agent): Promise<number> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    get(`${url}/healthz`, { agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? done(performance.now() - t0) : fail(new Error(`/healthz answered ${res.statusCode}`))));
    }).on('error', fail);
  });
}

/** Asks /healthz every `gapMs` until `stop()` says so; the latencies in order (and the bystander's, asked right after each). */
async function probe(url: string, agent: Agent, stop: () => boolean, bystander?: { url: string; agent: Agent; times: number[] }, gapMs = 10): Promise<number[]> {
  const times: number[] = [];
  while (!stop()) {
    times.push(await healthz(url, agent));
    if (bystander) bystander.times.push(await healthz(bystander.url, bystander.agent));
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return times;
}

/**
 * A process that does nothing but answer /healthz, started beside the bot: asked in the same loop,
 * its latency is what this machine gives any process while the transfers, sshd and the bench share
 * its cores, the floor under the bot's figure.
 */
async function startBystander(): Promise<{ child: ChildProcess; url: string }> {
  const code = "require('http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1', function () { console.log('bystander ' + this.address().port); })";
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /bystander (\d+)/.exec(out);
      if (m) ok(Number(m[1]));
    });
    child.once('exit', (c) => fail(new Error(`The bystander exited (${c}) before listening.`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

function percentiles(times: number[]): { requests: number; p50Ms: number; p99Ms: number; maxMs: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { requests: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted[sorted.length - 1] ?? NaN };
}

/** Drives `user` from "transfer" to the confirm card for sample-bucket/`file`; returns the card's message ID. */
async function toConfirm(user: ChatUser, file: string): Promise<string> {
  await user.say('transfer');
  await user.waitForAction('request.submit', {}, 60_000);
  await user.click('request.submit', { inputs: FORM });
  await user.waitForAction('signin.continue', {}, 60_000);
  await user.click('signin.continue');
  await user.waitForAction('bucket.pick', { container: 'sample-bucket' }, 60_000);
  await user.click('bucket.pick', { match: { container: 'sample-bucket' } });
  await user.waitForAction('file.pick', { objectKey: file }, 60_000);
  await user.click('file.pick', { match: { objectKey: file } });
  await user.waitForAction('dest.submit', {}, 60_000);
  await user.click('dest.submit', { inputs: { savedDestination: SAVED, overwrite: 'replace' } });
  return (await user.waitForAction('transfer.confirm', {}, 60_000)).activityId;
}

export async function measureBotUnderLoad(options: BotUnderLoadOptions): Promise<LoopResult> {
  const { app, sshd, mib, transfers, log } = options;
  const bytes = mib * MiB;
  const data = await tempDir('bench-bot');
  const folder = join(sshd.rootDir, 'bot-in');
  const connector = await FakeConnector.start();
  let bot: Awaited<ReturnType<typeof startBot>> | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const bystanderAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const bystander = await startBystander();
  try {
    // One source file, linked under a name per transfer: every transfer reads its own object.
    const bucket = join(data.path, 'sources', 'sample-bucket');
    await mkdir(bucket, { recursive: true });
    const first = join(bucket, 'big-1.bin');
    const fh = await open(first, 'w');
    const block = randomBytes(Math.min(64, mib) * MiB);
    for (let at = 0; at < bytes; at += block.length) await fh.write(block, 0, Math.min(block.length, bytes - at));
    await fh.close();
    for (let i = 2; i <= transfers; i++) await link(first, join(bucket, `big-${i}.bin`));
    const destinations = join(data.path, 'destinations.json');
    await writeFile(destinations, JSON.stringify([{ name: SAVED, protocol: 'sftp', host: '127.0.0.1', port: sshd.port, username: sshd.user, remoteFolder: folder, hostKeyFingerprint: sshd.hostKeyFingerprint, passwordRef: `env:${PASSWORD_VAR}` }]));
    bot = await startBot(app, botEnv({ FILEFERRY_DATA_DIR: data.path, FILEFERRY_DESTINATIONS_FILE: destinations, [PASSWORD_VAR]: sshd.password, PORT: String(await freePort()) }));
    const url = bot.url;
    log(`bot started ${bot.label} at ${url}`);

    const idleUntil = performance.now() + 3000;
    const idle = percentiles(await probe(url, agent, () => performance.now() > idleUntil));

    const users = Array.from({ length: transfers }, (_, i) => remoteUser({ connector, url: () => url }, `Bench User ${i + 1}`));
    const cards: string[] = [];
    for (const [i, user] of users.entries()) cards.push(await toConfirm(user, `big-${i + 1}.bin`));
    log(`${transfers} requests at their confirm card; starting all transfers`);

    const done = new Set<number>();
    const completed = (i: number): boolean => users[i]!.messages().some((m) => /has been transferred successfully/.test(String(m.activity.text ?? '')));
    const failed = (i: number): string | undefined => users[i]!.messages().map((m) => String(m.activity.text ?? '')).find((t) => /could not be transferred/.test(t));
    const t0 = performance.now();
    const confirms = Promise.all(users.map((u, i) => u.click('transfer.confirm', { activityId: cards[i]! })));
    let problem: string | undefined;
    const deadline = t0 + 30 * 60_000;
    const bystanderTimes: number[] = [];
    const loaded = await probe(url, agent, () => {
      users.forEach((_, i) => completed(i) && done.add(i));
      problem ??= users.map((_, i) => failed(i)).find(Boolean) ?? (performance.now() > deadline ? 'the transfers took over 30 minutes' : undefined);
      return done.size === transfers || problem !== undefined;
    }, { url: bystander.url, agent: bystanderAgent, times: bystanderTimes });
    const seconds = (performance.now() - t0) / 1000;
    await confirms;
    if (problem) throw new Error(`The bot's transfers did not all complete: ${problem}\n${bot.output().slice(-3000)}`);
    for (let i = 1; i <= transfers; i++) {
      const size = (await stat(join(folder, `big-${i}.bin`))).size;
      if (size !== bytes) throw new Error(`big-${i}.bin arrived with ${size} bytes, not ${bytes}.`);
    }
    const stats = percentiles(loaded);
    return {
      what: `/healthz of the bot (${bot.label}), one request at a time every 10 ms, from the ${transfers} confirm clicks until the last of ${transfers} ${mib} MiB transfers (local folder → SFTP on loopback) completed`,
      transfers,
      bytesEach: bytes,
      ...stats,
      idle,
      bystander: percentiles(bystanderTimes),
      aggregateMiBps: (transfers * bytes) / MiB / seconds,
    };
  } finally {
    agent.destroy();
    bystanderAgent.destroy();
    bystander.child.kill();
    if (bot && bot.child.exitCode === null) {
      const exited = new Promise((r) => bot!.child.once('exit', r));
      bot.child.kill('SIGTERM');
      const timer = setTimeout(() => bot!.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await connector.stop();
    await rm(folder, { recursive: true, force: true });
    await data.remove();
  }
}
