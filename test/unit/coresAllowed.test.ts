import { strict as assert } from 'node:assert';
import { coresAllowed, type ReadSystemFile } from '../../src/transfer/thread/coresAllowed';

/** A /proc and /sys/fs/cgroup made of the given files. */
const files = (entries: Record<string, string>): ReadSystemFile => (path) => entries[path];

describe('coresAllowed: transfer workers per cgroup CPU quota', () => {
  it('takes every available core where no quota is set', () => {
    assert.equal(coresAllowed(files({}), 8), 8);
    assert.equal(coresAllowed(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }), 8), 8);
    assert.equal(coresAllowed(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }), 8), 8);
  });

  it('lowers it to a cgroup v2 quota, rounding a fraction up, never below one', () => {
    assert.equal(coresAllowed(files({ '/sys/fs/cgroup/cpu.max': '200000 100000\n' }), 8), 2);
    assert.equal(coresAllowed(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }), 8), 2);
    assert.equal(coresAllowed(files({ '/sys/fs/cgroup/cpu.max': '10000 100000\n' }), 8), 1);
  });

  it('never raises it above the cores the process may run on', () => {
    assert.equal(coresAllowed(files({ '/sys/fs/cgroup/cpu.max': '1600000 100000\n' }), 2), 2);
  });

  it("reads the process's own cgroup first (v2), then the root a container sees", () => {
    const read = files({
      '/proc/self/cgroup': '0::/system.slice/fileferry.service\n',
      '/sys/fs/cgroup/system.slice/fileferry.service/cpu.max': '100000 100000\n',
      '/sys/fs/cgroup/cpu.max': 'max 100000\n',
    });
    assert.equal(coresAllowed(read, 8), 1);
  });

  it('reads cgroup v1 quota and period', () => {
    const read = files({
      '/proc/self/cgroup': '4:cpu,cpuacct:/kubepods/pod1\n3:memory:/kubepods/pod1\n',
      '/sys/fs/cgroup/cpu/kubepods/pod1/cpu.cfs_quota_us': '300000\n',
      '/sys/fs/cgroup/cpu/kubepods/pod1/cpu.cfs_period_us': '100000\n',
    });
    assert.equal(coresAllowed(read, 8), 3);
  });

  it('ignores files it cannot make sense of', () => {
    assert.equal(coresAllowed(files({ '/sys/fs/cgroup/cpu.max': 'garbage\n' }), 4), 4);
    assert.equal(coresAllowed(files({ '/sys/fs/cgroup/cpu.max': 'abc 100000\n' }), 4), 4);
  });
});
