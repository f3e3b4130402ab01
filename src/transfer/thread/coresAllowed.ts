import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Reads a small system file; undefined where it does not exist (not Linux, no cgroup). */
export type ReadSystemFile = (path: string) => string | undefined;

const readSystemFile: ReadSystemFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * How many cores this process may keep busy: the CPUs it may run on (what
 * `os.availableParallelism()` counts), lowered to its cgroup's CPU quota where it has one. A
 * container given one CPU of an 8-core host (Azure App Service, Kubernetes `limits.cpu`) would
 * otherwise start eight transfer workers that only take turns and each hold an isolate's memory.
 * cgroup v2 (`cpu.max`) and v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`), at the process's own
 * cgroup and at the root a container sees; a fractional quota rounds up.
 */
export function coresAllowed(read: ReadSystemFile = readSystemFile, available = availableParallelism()): number {
  const quota = cgroupQuota(read);
  return quota === undefined ? available : Math.max(1, Math.min(available, Math.ceil(quota)));
}

function cgroupQuota(read: ReadSystemFile): number | undefined {
  // /proc/self/cgroup lines are `id:controllers:path`; cgroup v2's is `0::path`.
  const own = (controllers: string): string[] => {
    const line = read('/proc/self/cgroup')?.split('\n').find((l) => l.split(':')[1]?.split(',').includes(controllers));
    const path = line?.split(':').slice(2).join(':').trim();
    return path && path !== '/' ? [path] : [];
  };
  for (const dir of [...own(''), '']) {
    const max = read(`/sys/fs/cgroup${dir}/cpu.max`)?.trim().split(/\s+/);
    if (max && max.length === 2) return max[0] === 'max' ? undefined : ratio(max[0]!, max[1]!);
  }
  for (const dir of [...own('cpu'), '']) {
    const quota = read(`/sys/fs/cgroup/cpu${dir}/cpu.cfs_quota_us`)?.trim();
    const period = read(`/sys/fs/cgroup/cpu${dir}/cpu.cfs_period_us`)?.trim();
    if (quota !== undefined && period !== undefined) return Number(quota) < 0 ? undefined : ratio(quota, period);
  }
  return undefined;
}

function ratio(quota: string, period: string): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  return Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? q / p : undefined;
}
