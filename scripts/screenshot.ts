/**
 * `npx tsx scripts/screenshot.ts`: drives one whole request through the Microsoft 365 Agents
 * Playground in headless Chromium and saves the README's screenshots under docs/.
 *
 * It runs the bot exactly as `npm start` does (scripts/start.js: sample files seeded, the bot in
 * local mode, scripts/playground.js pointed at it), but on free ports and in a throw-away data
 * folder, so it neither collides with a running `npm start` nor touches ./data. Then it types
 * `transfer`, fills the request form, signs in, picks the bucket and a sample file, chooses the
 * "Local outbox" destination, confirms, and waits for the completion card.
 *
 * Needs Debian's `chromium` (`apt-get install -y chromium`) and the `playwright-core` devDependency;
 * it never downloads a browser. Options:
 *   --out DIR        where the PNGs go (default docs/)
 *   --chromium PATH  the browser binary (default /usr/bin/chromium)
 * Everything it starts (start.js with the bot and the Playground, Chromium) is stopped in `finally`,
 * and the temporary folders are removed, whatever happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

const ROOT = resolve(__dirname, '..');

/** The flags that keep Debian's Chromium quiet and working headless on this kind of machine. */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Long enough for a cold tsx start of the bot and the Playground; each step is far quicker. */
const START_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 30_000;
const SHOT_LIMIT_BYTES = 400 * 1024;
const VIEWPORT_WIDTH = 1280;
const MAX_HEIGHT = 2400;
/** Room below the last card for the card's frame and the Playground's message box. */
const COMPOSER_ROOM = 110;
/** A little over the progress reporter's 2 s update interval; see settle(). */
const SETTLE_MS = 2_500;

/** A free loopback TCP port, chosen by the OS and released before returning. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

interface Stack {
  child: ChildProcess;
  playgroundUrl: string;
  output: () => string;
}

/**
 * Starts scripts/start.js in its own process group (so stopping it reaches the bot and the
 * Playground it spawned) and resolves with the Playground URL once both the bot and the
 * Playground have said they are listening.
 */
async function startStack(dataDir: string, logFile: string): Promise<Stack> {
  const [botPort, playgroundPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.js')], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(botPort),
      FILEFERRY_DATA_DIR: dataDir,
      TEAMSAPPTESTER_PORT: String(playgroundPort),
      M365_AGENTS_PLAYGROUND_LOGFILE: logFile,
      TEAMSAPPTESTER_BROWSER: 'none',
    },
  });
  let text = '';
  const output = (): string => text;
  const stack: Stack = { child, playgroundUrl: '', output };
  await new Promise<void>((resolveReady, reject) => {
    let botUp = false;
    const timer = setTimeout(() => reject(new Error(`The bot and the Playground did not start within ${START_TIMEOUT_MS / 1000} s.\n${text}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      botUp ||= /FileFerry bot: http:\/\/localhost:\d+\/api\/messages/.test(text);
      const playground = /\[playground\] Agents Playground: (http:\/\/localhost:\d+)/.exec(text);
      if (playground) stack.playgroundUrl = playground[1]!;
      if (botUp && stack.playgroundUrl) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`scripts/start.js exited early (${signal ?? code}).\n${text}`));
    });
  }).catch(async (e: unknown) => {
    await stopStack(stack);
    throw e;
  });
  return stack;
}

/** SIGTERM to start.js's process group (start.js forwards it), then SIGKILL whatever is left. */
async function stopStack(stack: Stack): Promise<void> {
  const pid = stack.child.pid;
  if (pid === undefined) return;
  const exited = stack.child.exitCode !== null || stack.child.signalCode !== null;
  const gone = exited ? Promise.resolve() : new Promise<void>((r) => stack.child.once('exit', () => r()));
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  signalGroup('SIGTERM');
  await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
  // The children may outlive start.js by a moment; make sure none of the group is left behind.
  await new Promise((r) => setTimeout(r, 1_000));
  signalGroup('SIGKILL');
}

/** The newest card on the page whose text includes `heading`. */
function cardWith(page: Page, heading: string): Locator {
  return page.locator('.ac-adaptiveCard').filter({ hasText: heading }).last();
}

/** Picks `option` in the card's Fluent combobox labelled `label` (Input.ChoiceSet, compact style). */
async function choose(card: Locator, label: string, option: string, search?: string): Promise<void> {
  const box = card.getByRole('combobox', { name: label });
  await box.click();
  // A filtered ChoiceSet narrows its list as keys are typed (fill() alone does not trigger that).
  if (search) await box.pressSequentially(search, { delay: 20 });
  await card.page().getByRole('option', { name: option, exact: true }).click();
}

/**
 * Waits out the in-place re-render of the card just shown. The bot answers a click twice: the
 * invoke response shows the next card at once, and the same card also arrives as an
 * updateActivity (throttled to one per ~2 s per conversation), which re-renders the message.
 * A click during that re-render lands on a detached element and is lost.
 */
async function settle(page: Page): Promise<void> {
  await page.waitForTimeout(SETTLE_MS);
}

/** A row of a picker card (a Container with a selectAction): a button named by the action's title. */
function pickerRow(card: Locator, title: string): Locator {
  return card.getByRole('button', { name: title, exact: true });
}

/** The Playground's own invoke endpoint, which its UI posts every card click to. */
/** Clicks a file in the file picker and waits for the card that follows. */
async function pickFile(files: Locator, fileKey: string, next: Locator): Promise<void> {
  await pickerRow(files, `Send ${fileKey.slice(fileKey.lastIndexOf('/') + 1)}`).click();
  await next.waitFor();
}

/**
 * Saves a full-page PNG sized to the conversation: the Playground's chat is a scrolling pane, so
 * the window is made just tall enough for every message (up to MAX_HEIGHT) before the picture.
 */
async function shoot(page: Page, path: string): Promise<void> {
  const width = page.viewportSize()?.width ?? VIEWPORT_WIDTH;
  await page.setViewportSize({ width, height: MAX_HEIGHT });
  // Let the chat scroll to its newest message and images/fonts settle before measuring.
  await page.waitForTimeout(1_500);
  const box = await page.locator('.ac-adaptiveCard').last().boundingBox();
  const height = box ? Math.min(MAX_HEIGHT, Math.ceil(box.y + box.height + COMPOSER_ROOM)) : MAX_HEIGHT;
  await page.setViewportSize({ width, height });
  await page.waitForTimeout(500);
  await page.screenshot({ path, fullPage: true });
  const { size } = await stat(path);
  const note = size > SHOT_LIMIT_BYTES ? ` (over ${SHOT_LIMIT_BYTES / 1024} KB: make the window smaller)` : '';
  process.stdout.write(`saved ${path} (${width}×${height}, ${Math.round(size / 1024)} KB)${note}\n`);
}

/** The whole request, step by step, saving the screenshots on the way. */
async function driveFlow(page: Page, playgroundUrl: string, outDir: string): Promise<void> {
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  await page.goto(playgroundUrl);
  const chatBox = page.getByRole('textbox').last();
  await chatBox.waitFor();
  // The log panel takes a third of the width; the chat reads better without it.
  const logPanelClose = page.getByText('Log Panel', { exact: true }).locator('..').getByRole('button').last();
  if (await logPanelClose.isVisible().catch(() => false)) await logPanelClose.click().catch(() => undefined);

  await chatBox.fill('transfer');
  await chatBox.press('Enter');

  const form = cardWith(page, 'New transfer request');
  await form.waitFor();
  await choose(form, 'Environment', 'DEV');
  await choose(form, 'Cloud', 'AWS');
  await choose(form, 'Region or location', 'AWS · eu-west-1', 'eu-west-1');
  await choose(form, 'Assignment group', 'DataOps');
  await form.getByLabel('Justification').fill('Q1 sales figures for the customer\'s finance team (ticket demo).');
  await shoot(page, join(outDir, 'playground-request.png'));
  await form.getByRole('button', { name: 'Create request' }).click();

  const signIn = cardWith(page, 'Step 3 of 6');
  await signIn.waitFor();
  await settle(page);
  await signIn.getByRole('button', { name: /^Continue as / }).click();

  const buckets = cardWith(page, 'Choose a bucket');
  await buckets.waitFor();
  await settle(page);
  await pickerRow(buckets, 'Open fileferry-samples').click();

  // reports/ → 2024/ → q1-sales.csv: shows folders, the way back up and file details.
  await cardWith(page, 'Choose a file').waitFor();
  await settle(page);
  await shoot(page, join(outDir, 'playground-files.png'));
  await pickerRow(cardWith(page, 'Choose a file'), 'Open folder reports').click();
  await cardWith(page, 'fileferry-samples/reports/').filter({ hasText: 'Choose a file' }).waitFor();
  await settle(page);
  await pickerRow(cardWith(page, 'Choose a file'), 'Open folder 2024').click();
  const files = cardWith(page, 'fileferry-samples/reports/2024/');
  await files.getByText('q1-sales.csv').waitFor();
  await settle(page);
  const destination = cardWith(page, 'Where should q1-sales.csv go?');
  await pickFile(files, 'reports/2024/q1-sales.csv', destination);
  await settle(page);
  await choose(destination, 'Saved destination', 'Local outbox');
  await choose(destination, 'If a file with that name already exists', 'Keep both (rename the new one)');
  await destination.getByRole('button', { name: 'Continue' }).click();

  const confirm = cardWith(page, 'Ready to send');
  await confirm.waitFor();
  await settle(page);
  await confirm.getByRole('button', { name: 'Start transfer' }).click();

  await cardWith(page, 'Transfer complete').waitFor({ timeout: 60_000 });
  await shoot(page, join(outDir, 'playground-flow.png'));
}

/** Runs one cleanup step; its failure is reported but never replaces the error that came first. */
async function cleanup(what: string, step: () => Promise<unknown> | undefined): Promise<void> {
  try {
    await step();
  } catch (e) {
    process.stderr.write(`cleanup: ${what} failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: join(ROOT, 'docs') }, chromium: { type: 'string', default: '/usr/bin/chromium' } },
  });
  const outDir = resolve(values.out!);
  await mkdir(outDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'fileferry-screenshot-'));
  let stack: Stack | undefined;
  let browser: BrowserContext | undefined;
  let page: Page | undefined;
  try {
    stack = await startStack(join(work, 'data'), join(work, 'agentsplayground.log'));
    process.stdout.write(`bot and Playground up; Playground at ${stack.playgroundUrl}\n`);
    // A persistent context on a fresh folder is Playwright's way of passing --user-data-dir.
    browser = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
      executablePath: values.chromium!,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: VIEWPORT_WIDTH, height: MAX_HEIGHT },
      deviceScaleFactor: 1,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    await driveFlow(page, stack.playgroundUrl, outDir);
  } catch (e) {
    // Keep what the page looked like when it failed (outside docs/, so it is never committed).
    const failure = join(tmpdir(), 'fileferry-screenshot-failure.png');
    if (page && (await page.screenshot({ path: failure, fullPage: true }).then(() => true, () => false))) {
      process.stderr.write(`the page at the moment of failure: ${failure}\n`);
    }
    if (stack) process.stderr.write(`--- last output of the bot and the Playground ---\n${stack.output().slice(-4000)}\n`);
    throw e;
  } finally {
    await cleanup('closing Chromium', () => browser?.close());
    await cleanup('stopping the bot and the Playground', () => (stack ? stopStack(stack) : undefined));
    await cleanup('removing the temporary folder', () => rm(work, { recursive: true, force: true }));
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`screenshot failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
