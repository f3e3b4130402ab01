import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { NODE_FLAGS } from '../../scripts/nodeFlags';

const ROOT = resolve(__dirname, '..', '..');
const READY = /FileFerry bot: http:\/\/localhost:(\d+)\/api\/messages/;

export interface BotProcess {
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:<port>, where /api/messages is. */
  readonly url: string;
  /** Resolves when the process has exited (however it ended). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The process's stdout and stderr so far (the last 200 000 characters). */
  output(): string;
  /** Sends `signal` and waits for the exit (a SIGKILL cannot be caught: nothing of the bot runs after it). */
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ends the process if it still runs (SIGTERM, then SIGKILL after 5 s); never throws. */
  stop(): Promise<void>;
}

/**
 * Runs the bot as users do, `node --import tsx src/index.ts` from the repository root, in its own
 * process (so a test can SIGKILL it), with exactly `env` and waits until it prints the URL it
 * listens on. The output is kept to explain a failure. Should the test process die without its
 * after() hooks, the bot is killed with it.
 */
export async function startBotProcess(env: NodeJS.ProcessEnv, options: { startTimeoutMs?: number } = {}): Promise<BotProcess> {
  const child = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', 'src/index.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onData = (data: Buffer): void => {
    output = (output + data.toString()).slice(-200_000);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      done({ code, signal });
    }),
  );
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (!running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  try {
    const port = await new Promise<number>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`The bot did not start within ${timeoutMs} ms. Output:\n${output}`)), timeoutMs);
      const check = (): void => {
        const m = READY.exec(output);
        if (!m) return;
        clearTimeout(timer);
        ok(Number(m[1]));
      };
      child.stdout.on('data', check);
      child.once('error', (e) => {
        clearTimeout(timer);
        fail(e);
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        fail(new Error(`The bot exited (${code ?? signal}) before it was listening. Output:\n${output}`));
      });
    });
    return {
      pid: child.pid!,
      port,
      url: `http://127.0.0.1:${port}`,
      exited,
      output: () => output,
      async kill(signal) {
        if (running()) child.kill(signal);
        return exited;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
