import { Agent } from 'node:https';

type CreateConnection = (this: Agent, ...args: unknown[]) => unknown;

/**
 * STOP-GAP for tests only. AzureBlobSource (src/adapters/source/azureBlobSource.ts) builds its
 * BlobServiceClient's pipeline itself and takes no TLS options, so a test cannot hand it the
 * test CA the way other clients get one (`tlsOptions: { ca }`). Until it does, this adds `ca`
 * to the TLS options of https.Agent connections to 127.0.0.1:`port` only (the Azure SDK's node
 * client connects through an https.Agent), and to nothing else. Certificate and host name
 * verification stay on: the server must present a certificate the CA issued, for 127.0.0.1.
 * Returns the function that puts https.Agent back as it was.
 */
const WORKER_TRUST = 'FILEFERRY_TEST_TRUSTED_CA_PORTS';

export function trustCaForPort(port: number, caPem: string): () => void {
  const proto = Agent.prototype as unknown as { createConnection: CreateConnection };
  const original = proto.createConnection;
  proto.createConnection = function (this: Agent, ...args: unknown[]) {
    // https.Agent#createConnection(options) or (port, host, options).
    const options = (args[0] !== null && typeof args[0] === 'object' ? args[0] : args[2]) as { host?: string; port?: string | number; ca?: unknown } | undefined;
    if (options && Number(options.port) === port && (options.host === '127.0.0.1' || options.host === 'localhost') && options.ca === undefined) {
      options.ca = caPem;
    }
    return original.apply(this, args);
  };
  // Worker threads (the bot's transfers) get the same trust through test/support/workerTrust.cjs.
  const shared = JSON.parse(process.env[WORKER_TRUST] ?? '{}') as Record<string, string>;
  process.env[WORKER_TRUST] = JSON.stringify({ ...shared, [String(port)]: caPem });
  return () => {
    proto.createConnection = original;
    const left = JSON.parse(process.env[WORKER_TRUST] ?? '{}') as Record<string, string>;
    delete left[String(port)];
    process.env[WORKER_TRUST] = JSON.stringify(left);
  };
}
