import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The system account the real sshd and vsftpd log the tests in as. Password checks in those servers
 * go through the system's own account database (PAM), so the harness needs a real account: a
 * system user with a random password kept in a root-only file, so that test processes running side
 * by side share it instead of resetting each other's. Creating it needs root (as CI is).
 */
export const TEST_USER = 'fileferry-test';

export interface TestUser {
  name: string;
  password: string;
  uid: number;
  gid: number;
  home: string;
}

let cached: TestUser | undefined;

export function ensureTestUser(): TestUser {
  if (cached) return cached;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `The SFTP/FTP test servers need the system user ${TEST_USER}, and creating it needs root. ` +
        `Run the tests as root (as CI does), or run once as root: useradd --system --create-home --shell /bin/bash ${TEST_USER}`,
    );
  }
  const home = `/home/${TEST_USER}`;
  try {
    execFileSync('id', ['-u', TEST_USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--create-home', '--home-dir', home, '--shell', '/bin/bash', TEST_USER]);
  }
  const uid = Number(execFileSync('id', ['-u', TEST_USER]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', TEST_USER]).toString().trim());
  if (!existsSync(home)) mkdirSync(home, { recursive: true });
  chownSync(home, uid, gid);
  const password = sharedPassword();
  // Setting the same password again is harmless, and repairs an account whose password changed.
  execFileSync('chpasswd', [], { input: `${TEST_USER}:${password}\n` });
  cached = { name: TEST_USER, password, uid, gid, home };
  return cached;
}

/** The password every test process uses; the first to run creates it (exclusive create, mode 0600). */
function sharedPassword(): string {
  const file = join(tmpdir(), `${TEST_USER}.password`);
  try {
    writeFileSync(file, randomBytes(12).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return readFileSync(file, 'utf8').trim();
}
