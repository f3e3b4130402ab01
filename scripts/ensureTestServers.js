#!/usr/bin/env node
'use strict';
// The tests run against real Debian servers (OpenSSH sshd, vsftpd, proftpd with mod_digest) and
// curl. When one is missing: as root, install it with apt-get; otherwise stop at once with the one
// command that installs it. Tests never skip because a server is absent.
const { existsSync } = require('node:fs');
const { execSync } = require('node:child_process');

const needed = [
  { path: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { path: '/usr/bin/ssh-keygen', pkg: 'openssh-client' },
  { path: '/usr/sbin/vsftpd', pkg: 'vsftpd' },
  { path: '/usr/sbin/proftpd', pkg: 'proftpd-core' },
  { path: '/usr/lib/proftpd/mod_digest.so', pkg: 'proftpd-core' },
  { path: '/usr/bin/openssl', pkg: 'openssl' },
  { path: '/usr/bin/curl', pkg: 'curl' },
];
const missing = [...new Set(needed.filter((n) => !existsSync(n.path)).map((n) => n.pkg))];
if (missing.length === 0) process.exit(0);

const command = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`;
if (process.getuid && process.getuid() === 0) {
  console.error(`fileferry: installing test servers: ${missing.join(', ')}`);
  // The packages' own start-up is denied: the tests start their own instances on loopback.
  execSync(command, { stdio: 'inherit', shell: '/bin/bash' });
  process.exit(0);
}
console.error(`fileferry: the tests need ${missing.join(', ')}. Install them with:\n\n  sudo sh -c '${command}'\n`);
process.exit(1);
