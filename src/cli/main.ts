import { parseArgs } from 'node:util';
import { FerryError } from '../domain/errors';
import { MAX_CONNECTIONS } from '../transfer/stripedConnections';
import type { OverwritePolicy } from '../transfer/types';
import { askPassword } from './askPassword';
import { parseAuditRequest } from './auditRequest';

// Each command's module is loaded only when that command runs: `copy` then never compiles the
// store, the config schema (zod) or push mode, which cost start-up CPU and RSS on every transfer.
const commands = {
  copy: () => require('./copyCommand') as typeof import('./copyCommand'),
  ls: () => require('./lsCommand') as typeof import('./lsCommand'),
  audit: () => require('./auditCommand') as typeof import('./auditCommand'),
  push: () => require('./pushCommand') as typeof import('./pushCommand'),
};

const USAGE = `Usage:
  fileferry copy SRC DST [--json] [--progress] [--retries N] [--overwrite fail|replace|rename]
                         [--identity FILE] [--host-key SHA256:…] [--known-hosts FILE]
                         [--ca FILE] [--allow-plain-ftp] [--ssh-hash] [--connections N]
  fileferry ls SRC [--json]
  fileferry audit verify [--json] [--against-tickets]
  fileferry audit export --since ISO --until ISO --format csv|jsonl [--request ID]
  fileferry push run [--rules FILE]          (default: FILEFERRY_PUSH_RULES_FILE; until Ctrl+C)
  fileferry push status [--rule NAME] [--json]
  fileferry push retry OBJECT                (the id push status prints, or s3://bucket/key)

Locations: s3://bucket/key  azblob://container/blob  file:///path
           sftp://user@host:port/path  ftps://user@host:port/path  ftp://user@host:port/path
           (a server path starting with /~/ is relative to the login folder)
Secrets:   the destination password comes from FILEFERRY_DEST_PASSWORD or a prompt; an SFTP key
           from --identity FILE (passphrase in FILEFERRY_KEY_PASSPHRASE). Never from the command line.
Audit:     the store the bot's environment configures (FILEFERRY_STORE, FILEFERRY_DATA_DIR); verify
           exits 0 when the chain is intact, 1 naming the first broken record, and checks HMACs
           when FILEFERRY_AUDIT_KEY_REF is set. ISO: 2031-03-14 (UTC) or 2031-03-14T09:30:00Z;
           --since is inclusive, --until exclusive. Export streams to stdout.
`;

/** Runs the CLI and returns the exit code: 0 on success, 1 on a failed command, 2 on bad usage. */
export interface CliIo {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export async function main(argv: string[], io: CliIo = { out: process.stdout, err: process.stderr, env: process.env }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        progress: { type: 'boolean', default: false },
        retries: { type: 'string', default: '3' },
        connections: { type: 'string' },
        overwrite: { type: 'string', default: 'fail' },
        identity: { type: 'string' },
        'host-key': { type: 'string' },
        'known-hosts': { type: 'string' },
        ca: { type: 'string' },
        'allow-plain-ftp': { type: 'boolean', default: false },
        'ssh-hash': { type: 'boolean', default: false },
        since: { type: 'string' },
        until: { type: 'string' },
        format: { type: 'string' },
        request: { type: 'string' },
        'against-tickets': { type: 'boolean', default: false },
        rules: { type: 'string' },
        rule: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    io.err.write(`fileferry: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || !command) {
    (values.help ? io.out : io.err).write(USAGE);
    return values.help ? 0 : 2;
  }
  const retries = Number(values.retries);
  if (!Number.isInteger(retries) || retries < 0 || retries > 100) {
    io.err.write(`fileferry: --retries must be a whole number from 0 to 100, not ${JSON.stringify(values.retries)}.\n`);
    return 2;
  }
  if (!['fail', 'replace', 'rename'].includes(values.overwrite!)) {
    io.err.write(`fileferry: --overwrite must be fail, replace or rename, not ${JSON.stringify(values.overwrite)}.\n`);
    return 2;
  }
  const connections = values.connections === undefined ? undefined : Number(values.connections);
  if (connections !== undefined && !(Number.isInteger(connections) && connections >= 1 && connections <= MAX_CONNECTIONS)) {
    io.err.write(`fileferry: --connections must be a whole number from 1 to ${MAX_CONNECTIONS}, not ${JSON.stringify(values.connections)}.\n`);
    return 2;
  }
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (command === 'copy' && args.length === 2) {
      return await commands.copy().copyCommand(args[0]!, args[1]!, {
        json: values.json!,
        progress: values.progress!,
        retries,
        ...(connections !== undefined ? { connections } : {}),
        overwrite: values.overwrite as OverwritePolicy,
        identityFile: values.identity,
        hostKey: values['host-key'],
        knownHostsFile: values['known-hosts'],
        caFile: values.ca,
        allowPlainFtp: values['allow-plain-ftp']!,
        sshHash: values['ssh-hash']!,
        askPassword: (prompt) => askPassword(prompt),
        env: io.env,
        out: io.out,
        err: io.err,
        signal: controller.signal,
      });
    }
    if (command === 'ls' && args.length === 1) {
      return await commands.ls().lsCommand(args[0]!, { json: values.json!, out: io.out, env: io.env });
    }
    if (command === 'audit') {
      const request = parseAuditRequest(args, values);
      if ('usage' in request) {
        io.err.write(`fileferry: ${request.usage}\n\n${USAGE}`);
        return 2;
      }
      return await commands.audit().auditCommand(request, { out: io.out, env: io.env });
    }
    if (command === 'push' && ((args[0] === 'run' || args[0] === 'status') && args.length === 1 || (args[0] === 'retry' && args.length === 2))) {
      return await commands.push().pushCommand(args[0]!, args.slice(1), { rules: values.rules, rule: values.rule, json: values.json!, out: io.out, err: io.err, env: io.env, signal: controller.signal });
    }
    io.err.write(`fileferry: unknown command or wrong arguments: ${positionals.join(' ')}\n\n${USAGE}`);
    return 2;
  } catch (e) {
    const error = e instanceof FerryError ? e : new FerryError('transfer', 'INTERNAL', (e as Error).message);
    if (values.json) io.out.write(JSON.stringify({ status: 'failed', error: error.toJSON() }) + '\n');
    else io.err.write(`fileferry: ${error.code}: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
