import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Node 24 removed process.binding('http_parser'). restify 11 used to load spdy (and through it
 * http-deceiver, which calls that binding) at require time, so the bot could not start on its
 * production runtime; patches/restify+11.1.0.patch loads spdy only when a server asks for it.
 * This runs restify in a Node whose binding is gone, as on Node 24, whatever Node runs the tests.
 */
describe('restify starts where process.binding("http_parser") is gone (Node 24)', () => {
  it('creates and starts a server, and never touches the binding', () => {
    const script = `
      const binding = process.binding;
      process.binding = (name) => {
        if (name === 'http_parser') throw new Error('No such module: http_parser');
        return binding.call(process, name);
      };
      const restify = require('restify');
      const server = restify.createServer({ name: 'probe' });
      server.listen(0, '127.0.0.1', () => { process.stdout.write('listening'); server.close(); });
    `;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: resolve(__dirname, '../..'), encoding: 'utf8' });
    assert.equal(out, 'listening');
  });
});
