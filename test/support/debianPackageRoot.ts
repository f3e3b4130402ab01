import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

/**
 * Where the test servers' Debian packages are unpacked when dpkg cannot install them.
 * Outside the repository; reused across runs.
 */
const CACHE = '/var/cache/fileferry/test-servers';

/**
 * Returns the folder a Debian package's files live under: '' (the system root) when it is
 * installed, otherwise a private folder it was unpacked into.
 *
 * Why: Debian's vsftpd and proftpd-core both "Provide" and "Conflict" with `ftp-server`, so dpkg
 * can hold only one of them: installing one removes the other (measured here). The tests need
 * both, so whichever is missing is fetched with `apt-get download` and unpacked with
 * `dpkg-deb -x` (no maintainer scripts, nothing started). Both are dynamically linked against the
 * libraries the other one's install already brought in (libssl, libpam, libwrap, libcap).
 *
 * `probe` is a file of the package (absolute as installed, e.g. '/usr/sbin/vsftpd').
 */
export function debianPackageRoot(pkg: string, probe: string): string {
  if (existsSync(probe)) return '';
  const root = join(CACHE, pkg);
  if (existsSync(join(root, probe))) return root;
  const work = join(tmpdir(), `fileferry-deb-${pkg}-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // apt-get download drops privileges to _apt, which must be able to write here.
  chmodSync(work, 0o777);
  try {
    try {
      execFileSync('apt-get', ['download', pkg], { cwd: work, stdio: 'pipe' });
    } catch {
      execFileSync('apt-get', ['update'], { stdio: 'pipe' });
      execFileSync('apt-get', ['download', pkg], { cwd: work, stdio: 'pipe' });
    }
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb file`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    execFileSync('dpkg-deb', ['-x', join(work, deb), root], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(
      `The tests need Debian's ${pkg} (${probe}) and could not unpack it into ${root}: ${(e as Error).message}. ` +
        `Run as root on Debian with network access to the package mirror.`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!existsSync(join(root, probe))) throw new Error(`Unpacked ${pkg} into ${root}, but ${probe} is not there.`);
  return root;
}
