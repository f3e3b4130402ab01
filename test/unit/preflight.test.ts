import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalDestination } from '../../src/adapters/destination/localDestination';
import { cancelled } from '../../src/domain/errors';
import type { Destination, DestinationSession } from '../../src/ports/destination';
import { preflight } from '../../src/workflow/preflight';
import { faultyDestination } from '../support/faultyLocalDestination';
import { tempDir } from '../support/tmp';

/**
 * A real local-folder destination whose session honours signals as a network adapter does (an
 * aborted signal refuses the call), and whose rename lets the test's signal fire mid-step.
 */
function signalled(inner: Destination, onRename?: () => void): Destination {
  return {
    label: inner.label,
    async connect(signal) {
      const session = await inner.connect(signal);
      const wrapped: Partial<DestinationSession> = {
        async rename(from, to, options) {
          onRename?.();
          if (options?.signal?.aborted) throw cancelled('The rename');
          return session.rename(from, to, options);
        },
        async remove(path, signal) {
          if (signal?.aborted) throw cancelled('The removal');
          return session.remove(path, signal);
        },
      };
      return Object.assign(Object.create(session) as DestinationSession, wrapped);
    },
  };
}

describe('preflight (Test connection) leaves no probe behind', () => {
  let dir: { path: string; remove: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('preflight');
    await mkdir(join(dir.path, 'in'));
  });
  afterEach(async () => dir.remove());

  it('removes a probe whose write failed part-way, without showing a removal step', async () => {
    const destination = faultyDestination(new LocalDestination({ root: dir.path }), { action: 'cut', afterBytes: 5 });
    const steps = await preflight(destination, '/in');
    assert.deepEqual(steps.map((s) => [s.step, s.ok]), [
      ['Reach the server', true],
      ['Check the host identity', true],
      ['Log in', true],
      ['Write a probe file', false],
    ]);
    assert.deepEqual(await readdir(join(dir.path, 'in')), [], 'the partial probe is gone');
  });

  it('removes the probe with its own time limit when the test\'s signal has fired', async () => {
    const controller = new AbortController();
    const destination = signalled(new LocalDestination({ root: dir.path }), () => controller.abort());
    const steps = await preflight(destination, '/in', controller.signal);
    const byStep = Object.fromEntries(steps.map((s) => [s.step, s.ok]));
    assert.equal(byStep['Write a probe file'], true);
    assert.equal(byStep['Rename the probe file'], false);
    assert.equal(byStep['Remove the probe file'], true);
    assert.deepEqual(await readdir(join(dir.path, 'in')), [], 'the probe is gone');
  });
});
