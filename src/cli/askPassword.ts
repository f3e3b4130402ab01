import { FerryError } from '../domain/errors';

/**
 * Reads a password from the terminal without echoing it. Refuses when stdin is not a TTY, so a
 * script never hangs waiting for a prompt nobody sees.
 */
export async function askPassword(prompt: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  if (!input.isTTY) {
    throw new FerryError('config', 'AUTH_FAILED', 'No destination password: FILEFERRY_DEST_PASSWORD is unset and there is no terminal to ask on.', {
      hint: 'Set FILEFERRY_DEST_PASSWORD, or use --identity FILE for SFTP key login.',
    });
  }
  output.write(prompt);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (error?: Error): void => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (data: Buffer): void => {
      for (const ch of data.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new FerryError('transfer', 'CANCELLED', 'Cancelled at the password prompt.'));
        if (ch === '\u007f') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    input.on('data', onData);
  });
}
