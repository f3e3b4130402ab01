import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, setLogRequestId, withLogContext } from '../../src/log';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination }) };
}

describe('log', () => {
  it('redacts secrets at any depth we log', () => {
    const { lines, log } = capture();
    log.info({ password: 'p1', destination: { password: 'p2', privateKey: 'k', nested: { token: 't' } }, headers: { authorization: 'Bearer x' } }, 'x');
    const text = JSON.stringify(lines[0]);
    for (const secret of ['p1', 'p2', '"k"', '"t"', 'Bearer x']) assert.ok(!text.includes(secret), `no ${secret}`);
    assert.ok(text.includes('[redacted]'));
  });

  it('puts the correlation and request ID on every line of a context, including async work', async () => {
    const { lines, log } = capture();
    await withLogContext({ correlationId: 'corr-12345678' }, async () => {
      log.info({}, 'before');
      setLogRequestId('FF-ABCDEFGH');
      await new Promise((r) => setTimeout(r, 5));
      log.info({}, 'after');
    });
    log.info({}, 'outside');
    assert.deepEqual(lines.map((l) => [l.msg, l.correlationId, l.requestId]), [
      ['before', 'corr-12345678', undefined],
      ['after', 'corr-12345678', 'FF-ABCDEFGH'],
      ['outside', undefined, undefined],
    ]);
  });
});
