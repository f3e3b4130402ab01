import assert from 'node:assert/strict';
import type { Attachment } from 'botbuilder';
import sinon from 'sinon';
import { createLogger } from '../../src/log';
import { ProgressReporter, retryAfterOf, statusOf, type CardTarget } from '../../src/bot/progressReporter';

const log = createLogger({ level: 'silent' });
const target = (activityId = 'm1', conversationId = 'c1'): CardTarget => ({ conversationId, reference: {}, activityId });
const card = (n: number): Attachment => ({ contentType: 'application/vnd.microsoft.card.adaptive', content: { n } });

function httpError(status: number, retryAfter?: string): Error {
  return Object.assign(new Error(`HTTP ${status}`), { statusCode: status, response: { headers: { get: (n: string) => (n === 'retry-after' ? retryAfter : undefined) } } });
}

/** A channel that records updates and answers with the scripted failures first. */
function channel(failures: Error[] = []) {
  const updates: { at: number; activityId: string; n: number }[] = [];
  const update = async (t: CardTarget, a: Attachment) => {
    const failure = failures.shift();
    updates.push({ at: Date.now(), activityId: t.activityId, n: (a.content as { n: number }).n });
    if (failure) throw failure;
  };
  return { updates, update };
}

describe('ProgressReporter', () => {
  // The reporter paces itself with setTimeout and Date.now: on a fake clock every interval and
  // Retry-After is exact, so what is coalesced does not depend on how busy the machine is.
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })));
  afterEach(() => clock.restore());
  const sleep = (ms: number) => clock.tickAsync(ms);
  /** Lets the reporter's waits run out, then `delivered` (a final card) settles. */
  const settled = async (delivered: Promise<void>) => {
    await clock.runAllAsync();
    await delivered;
  };

  it('sends at most one update per interval per conversation, newest card wins', async () => {
    const ch = channel();
    const reporter = new ProgressReporter(ch.update, log, { intervalMs: 150 });
    for (let i = 1; i <= 30; i++) {
      reporter.progress(target(), card(i));
      await sleep(10);
    }
    await settled(reporter.final(target(), card(99)));
    // Card 1 goes at once; at 150 and 300 ms the newest queued card (15, then 30) goes; the final card waits its interval.
    assert.deepEqual(ch.updates.map((u) => u.n), [1, 15, 30, 99], 'coalesced, newest card wins');
    for (let i = 1; i < ch.updates.length; i++) assert.ok(ch.updates[i]!.at - ch.updates[i - 1]!.at >= 150, 'spaced by the interval');
    reporter.close();
  });

  it('ignores progress after the final card and keeps conversations apart', async () => {
    const ch = channel();
    const reporter = new ProgressReporter(ch.update, log, { intervalMs: 100 });
    reporter.progress(target('a', 'c1'), card(1));
    reporter.progress(target('b', 'c2'), card(2));
    const done = reporter.final(target('a', 'c1'), card(3));
    reporter.progress(target('a', 'c1'), card(4));
    await settled(done);
    await sleep(250);
    assert.deepEqual(ch.updates.filter((u) => u.activityId === 'a').map((u) => u.n), [1, 3]);
    assert.deepEqual(ch.updates.filter((u) => u.activityId === 'b').map((u) => u.n), [2]);
    assert.equal(ch.updates.find((u) => u.n === 2)!.at, ch.updates.find((u) => u.n === 1)!.at, 'another conversation is not held back');
    reporter.close();
  });

  it('takes progress again after reopen (a Retry on the same card), even a card equal to one sent before', async () => {
    const ch = channel();
    const reporter = new ProgressReporter(ch.update, log, { intervalMs: 20 });
    reporter.progress(target(), card(1));
    await settled(reporter.final(target(), card(2)));
    reporter.reopen(target());
    reporter.progress(target(), card(1));
    await sleep(60);
    reporter.progress(target(), card(4));
    await settled(reporter.final(target(), card(5)));
    assert.deepEqual(ch.updates.map((u) => u.n), [1, 2, 1, 4, 5]);
    reporter.close();
  });

  it('on 429 waits Retry-After, then sends the newest card', async () => {
    const ch = channel([httpError(429, '1'), httpError(429, '1')]);
    const reporter = new ProgressReporter(ch.update, log, { intervalMs: 50 });
    reporter.progress(target(), card(1));
    await sleep(20);
    reporter.progress(target(), card(2));
    await settled(reporter.final(target(), card(3)));
    assert.deepEqual(ch.updates.map((u) => u.n), [1, 3, 3]);
    assert.ok(ch.updates[1]!.at - ch.updates[0]!.at >= 1000, 'waited the Retry-After');
    assert.ok(ch.updates[2]!.at - ch.updates[1]!.at >= 1000, 'waited the Retry-After');
    reporter.close();
  });

  it('on 5xx drops the update (no resend, no re-post) and goes on with the next', async () => {
    const ch = channel([httpError(500)]);
    const reporter = new ProgressReporter(ch.update, log, { intervalMs: 50 });
    reporter.progress(target(), card(1));
    await sleep(80);
    reporter.progress(target(), card(2));
    await sleep(150);
    assert.deepEqual(ch.updates.map((u) => u.n), [1, 2]);
    reporter.close();
  });

  it('gives a card up after repeated throttling', async () => {
    const ch = channel([httpError(429, '0'), httpError(429, '0'), httpError(429, '0')]);
    const reporter = new ProgressReporter(ch.update, log, { intervalMs: 10, maxThrottled: 2 });
    await settled(reporter.final(target(), card(1)));
    assert.equal(ch.updates.length, 3);
    reporter.close();
  });

  it('reads status and Retry-After from connector errors', () => {
    assert.equal(statusOf(httpError(429)), 429);
    assert.equal(statusOf({ response: { status: 503 } }), 503);
    assert.equal(retryAfterOf(httpError(429, '3')), 3000);
    const date = new Date(Date.now() + 5000).toUTCString();
    const ms = retryAfterOf(httpError(429, date))!;
    assert.ok(ms > 3000 && ms <= 5000);
    assert.equal(retryAfterOf(httpError(429)), undefined);
  });
});
