import assert from 'node:assert/strict';
import sinon from 'sinon';
import { WorkflowError } from '../../src/domain/workflowError';
import type { IdentityProvider, IdentitySession } from '../../src/ports/identityProvider';
import { createLogger } from '../../src/log';
import { SignInSessions, type SessionEndCause } from '../../src/workflow/sessions';

function provider(signedOut: IdentitySession[]): IdentityProvider {
  return {
    name: 'test',
    beginSignIn: async () => ({ kind: 'continue-as', provider: 'test', userName: 'A' }),
    completeSignIn: async () => ({ status: 'pending' }),
    signOut: async (s) => void signedOut.push(s),
  };
}

const session = (requestId: string): IdentitySession => ({ requestId, principal: 'p', source: {} as IdentitySession['source'] });

describe('SignInSessions: the browse window', () => {
  // The browse window and auto-logout are setTimeout timers: on a fake clock they end exactly when
  // due, so a busy machine cannot let one fire early or late relative to the test's steps.
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => (clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })));
  afterEach(() => clock.restore());
  const sleep = (ms: number) => clock.tickAsync(ms);

  it('ends a session nobody browses with, signing it out, while use keeps it open', async () => {
    const signedOut: IdentitySession[] = [];
    const sessions = new SignInSessions(provider(signedOut), createLogger({ level: 'silent' }), 0.5);
    const idle = session('FF-IDLE0001');
    const busy = session('FF-BUSY0001');
    sessions.open(idle.requestId, idle);
    sessions.open(busy.requestId, busy);
    for (let i = 0; i < 10; i++) {
      await sleep(100);
      sessions.require(busy.requestId);
    }
    assert.deepEqual(signedOut, [idle], 'only the idle session was signed out');
    assert.throws(() => sessions.require(idle.requestId), (e: unknown) => e instanceof WorkflowError && e.code === 'SESSION_ENDED');
    await sessions.endAll('test over');
  });

  it('after a transfer starts, auto-logout replaces the browse window', async () => {
    const signedOut: IdentitySession[] = [];
    const sessions = new SignInSessions(provider(signedOut), createLogger({ level: 'silent' }), 0.1);
    const s = session('FF-XFER0001');
    sessions.open(s.requestId, s);
    sessions.endAfter(s.requestId, 0.8, 'auto-logout');
    await sleep(799);
    assert.ok(sessions.get(s.requestId), 'the browse window no longer ends it, nor auto-logout before it is due');
    await sleep(1);
    assert.equal(sessions.get(s.requestId), undefined, 'auto-logout did');
    assert.deepEqual(signedOut, [s]);
  });

  it('tells how each session ended: its browse window, its auto-logout, its request, the shutdown; once each, and only for live sessions', async () => {
    const ended: Array<[string, SessionEndCause]> = [];
    const sessions = new SignInSessions(provider([]), createLogger({ level: 'silent' }), 0.2, async (requestId, _reason, cause) => void ended.push([requestId, cause]));
    for (const id of ['FF-IDLE0002', 'FF-XFER0002', 'FF-DONE0002']) sessions.open(id, session(id));
    sessions.endAfter('FF-XFER0002', 0.1, 'auto-logout after the transfer started');
    await sessions.end('FF-DONE0002', 'request cancelled');
    await sleep(400);
    sessions.open('FF-DOWN0002', session('FF-DOWN0002'));
    await sessions.endAll('shutdown');
    // Ending what is gone tells nobody again.
    assert.equal(await sessions.end('FF-IDLE0002', 'request expired'), false);
    assert.deepEqual(ended.sort(), [
      ['FF-DONE0002', 'request-ended'],
      ['FF-DOWN0002', 'shutdown'],
      ['FF-IDLE0002', 'browse-window'],
      ['FF-XFER0002', 'auto-logout'],
    ]);
  });
});
