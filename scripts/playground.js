#!/usr/bin/env node
'use strict';
/*
 * Starts the Microsoft 365 Agents Playground (npm @microsoft/m365agentsplayground) pointed at the
 * FileFerry bot, for chatting with it in a browser without Teams or a tunnel. Run it beside the
 * bot: `node scripts/playground.js [playground options]`. Tests never start it.
 *
 * What reading the package's dist/index.js (v0.2.28) showed:
 * - `require('@microsoft/m365agentsplayground/dist').start()` parses process.argv with yargs
 *   exactly like its CLI (`agentsplayground start …`), so extra arguments given to this script
 *   are passed through: --port/-p, --app-endpoint/-e, --channel-id/-c, --conversation-id,
 *   --client-id/--client-secret/--tenant-id (bot auth), --service-url, --delivery-mode,
 *   --enable-events-recording, --disable-telemetry.
 * - The bot endpoint comes from --app-endpoint, else the BOT_ENDPOINT environment variable, read
 *   when the module loads; its own default is http://127.0.0.1:3978/api/messages. This script sets
 *   BOT_ENDPOINT (from BOT_ENDPOINT, else PORT, else 3978) before loading it. 127.0.0.1 rather than
 *   "localhost": on Node ≥ 17 "localhost" may resolve to ::1 first, which an IPv4-only bot misses.
 * - UI port: --port, else TEAMSAPPTESTER_PORT, else 56150; if taken it silently picks another,
 *   so the actual port is read from its "Listening on N" line.
 * - The mocked Bot Connector is served by the Playground itself at http://localhost:<port>/_connector
 *   (the serviceUrl of the activities it sends, override with --service-url); bot replies and card
 *   updates go there. Card clicks arrive as `invoke` activities named `adaptiveCard/action` for
 *   Action.Execute, or as messages with `value` for Action.Submit.
 * - TEAMSAPPTESTER_BROWSER=none stops it from opening a browser (set here unless already set).
 * - Its log goes to M365_AGENTS_PLAYGROUND_LOGFILE (default ./devTools/m365agentsplayground.log
 *   under the working directory; set here to .tmp/agentsplayground.log, which git ignores).
 * - It replaces console.log/warn/error with versions that write to that log file and to the
 *   terminal only when stdout is a TTY, which is one reason to run it in its own process, not
 *   inside the bot.
 * - It sends telemetry to Application Insights unless --disable-telemetry; this script passes that
 *   flag unless FILEFERRY_PLAYGROUND_TELEMETRY=1.
 * - Why its CLI exits right after "Listening" on this machine (measured): after listening it
 *   opens the UI with `open`, which spawns xdg-open; on a headless machine that fails with
 *   `spawn xdg-open ENOENT`, an uncaught exception, and cli.js exits(1) on any uncaught exception.
 *   With TEAMSAPPTESTER_BROWSER=none it stays up; the process-level handlers below keep it up
 *   through any other stray error too.
 * - Checked here with a stand-in bot: a message posted to the Playground reached
 *   BOT_ENDPOINT with serviceUrl http://localhost:<port>/_connector, the reply posted there was
 *   accepted (201), and an adaptiveCard/action invoke returned the bot's card to the caller.
 * - Its default user is "Alex Wilber" with id "user-id-0" and an aadObjectId that is not a
 *   well-formed GUID (…-0000000000020), tenant "00000000-0000-0000-0000-0000000000001".
 */
const { mkdirSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const botPort = process.env.PORT || '3978';
process.env.BOT_ENDPOINT = process.env.BOT_ENDPOINT || `http://127.0.0.1:${botPort}/api/messages`;
process.env.TEAMSAPPTESTER_BROWSER = process.env.TEAMSAPPTESTER_BROWSER || 'none';
if (!process.env.M365_AGENTS_PLAYGROUND_LOGFILE) {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  process.env.M365_AGENTS_PLAYGROUND_LOGFILE = join(root, '.tmp', 'agentsplayground.log');
}

const passThrough = process.argv.slice(2);
const args = [...passThrough];
if (process.env.FILEFERRY_PLAYGROUND_TELEMETRY !== '1' && !args.some((a) => /^--disable-telemetry/i.test(a))) {
  args.push('--disable-telemetry');
}
// start() reads its options from process.argv after the script name, like the CLI does.
process.argv = [process.argv[0], process.argv[1], ...args];

const say = (line) => process.stderr.write(`[playground] ${line}\n`);

process.on('uncaughtException', (err) => say(`error (kept running): ${err && err.stack ? err.stack : err}`));
process.on('unhandledRejection', (err) => say(`unhandled rejection (kept running): ${err && err.stack ? err.stack : err}`));

// Announce the real URL once the Playground reports its port.
let announced = false;
function announce(text) {
  const match = !announced && /Listening on (\d+)/.exec(String(text));
  if (!match) return;
  announced = true;
  say(`Agents Playground: http://localhost:${match[1]}  →  bot at ${process.env.BOT_ENDPOINT}`);
  say(`mocked connector (serviceUrl): http://localhost:${match[1]}/_connector; log: ${process.env.M365_AGENTS_PLAYGROUND_LOGFILE}`);
}
// Both of its "Listening on N" paths (a direct stdout write, or console.log on a TTY) end up here.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  announce(chunk);
  return write(chunk, ...rest);
};

Promise.resolve(require('@microsoft/m365agentsplayground/dist').start()).catch((err) => {
  say(`could not start: ${err && err.stack ? err.stack : err}`);
  process.exitCode = 1;
});
