#!/usr/bin/env node
'use strict';
// The tests run against real Debian servers: OpenSSH sshd, vsftpd, and proftpd with mod_digest
// (for server-side hashes), plus openssl and curl. When a package is missing: as root, install it
// with apt-get; otherwise stop at once with the one command that installs it. Tests never skip.
//
// vsftpd and proftpd-core conflict in Debian (both provide ftp-server), so dpkg holds only one:
// vsftpd is installed, and test/support/debianPackageRoot.ts unpacks proftpd-core from the
// mirror into /var/cache/fileferry (dpkg-deb -x, nothing started). The libraries proftpd links
// against are installed here so that unpacked binary runs.
const { execFileSync, execSync } = require('node:child_process');

const packages = [
  'openssh-server', 'openssh-client', 'vsftpd', 'openssl', 'curl', 'ca-certificates',
  // proftpd-core's shared libraries (see above)
  'libhiredis0.14', 'libmemcached11', 'libmemcachedutil2', 'libpcre2-posix3', 'libcap2', 'libacl1', 'libidn2-0', 'libncursesw6',
];

function installed(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().includes('install ok installed');
  } catch {
    return false;
  }
}

const missing = packages.filter((p) => !installed(p));
if (missing.length === 0) process.exit(0);

const command = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`;
if (process.getuid && process.getuid() === 0) {
  console.error(`fileferry: installing test servers and libraries: ${missing.join(', ')}`);
  // The packages' own services are not started (no init here); the tests start their own instances.
  execSync(command, { stdio: 'inherit', shell: '/bin/bash' });
  process.exit(0);
}
console.error(`fileferry: the tests need ${missing.join(', ')}. Install them with:\n\n  sudo sh -c '${command}'\n`);
process.exit(1);
