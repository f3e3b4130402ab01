import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildServer {
  /** The port the server printed it listens on. */
  port: number;
  /** Stops the process (SIGTERM, then SIGKILL if it lingers) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a test server as a child Node process and waits until its output matches `ready`, whose
 * first capture group is the port. Servers are asked for port 0 so the OS picks a free one and no
 * other test can race for it. The output is kept (bounded) to explain a start-up failure.
 */
export async function startChildServer(
  label: string,
  nodeArgs: string[],
  ready: RegExp,
  options: { env?: NodeJS.ProcessEnv; startTimeoutMs?: number } = {},
): Promise<ChildServer> {
  const child = spawn(process.execPath, nodeArgs, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  // Should the test process die without its after() hooks, take the server down with it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.removeListener('exit', killOnExit);
      resolve();
    }),
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${label} did not start within ${options.startTimeoutMs ?? 30000} ms. Output:\n${output}`)),
        options.startTimeoutMs ?? 30000,
      );
      const onData = (data: Buffer): void => {
        output = (output + data.toString()).slice(-8000);
        const match = ready.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${label} exited (${code ?? signal}) before it was ready. Output:\n${output}`));
      });
    });
    // Keep draining the pipes so a chatty server never blocks on a full buffer.
    child.stdout?.resume();
    child.stderr?.resume();
    return { port, stop: () => stopChild(child, exited) };
  } catch (e) {
    await stopChild(child, exited);
    throw e;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
