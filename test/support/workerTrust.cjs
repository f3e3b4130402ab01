'use strict';
/**
 * STOP-GAP for tests only, trustCaForPort.ts's reach into worker threads. The bot runs transfers
 * in worker threads, which do not share the test's patched https.Agent. Mocha preloads this file
 * (.mocharc.json `node-option`), and worker threads inherit the preload: in a worker it adds the
 * CA that trustCaForPort named for 127.0.0.1:<port> (FILEFERRY_TEST_TRUSTED_CA_PORTS, a JSON map
 * of port to PEM in the environment the workers share) to connections to that port only, read at
 * each connection. Verification stays on. In the main thread it does nothing.
 */
const { isMainThread } = require('node:worker_threads');
if (!isMainThread) {
  const { Agent } = require('node:https');
  const original = Agent.prototype.createConnection;
  Agent.prototype.createConnection = function (...args) {
    const options = args[0] !== null && typeof args[0] === 'object' ? args[0] : args[2];
    const trusted = JSON.parse(process.env.FILEFERRY_TEST_TRUSTED_CA_PORTS || '{}');
    const ca = options && trusted[String(options.port)];
    if (ca && (options.host === '127.0.0.1' || options.host === 'localhost') && options.ca === undefined) options.ca = ca;
    return original.apply(this, args);
  };
}
