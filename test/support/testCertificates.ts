import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  /** PEM of the test CA the client is told to trust. */
  caPem: string;
  /** The server's certificate (PEM file) and key, as the server's config names them. */
  certFile: string;
  keyFile: string;
}

/**
 * Generates, at run time and into `dir`, a throw-away CA and a server certificate for 127.0.0.1 and
 * localhost (so no private key is ever committed). With `signed: 'self'` the server certificate is
 * self-signed and NOT issued by that CA, which is how a client that trusts the CA must see a
 * server it should refuse.
 */
export function generateTestCertificates(dir: string, signed: 'ca' | 'self' = 'ca'): TestCertificates {
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe', env: { ...process.env, OPENSSL_CONF: '/dev/null' } });
  };
  const san = 'subjectAltName=IP:127.0.0.1,DNS:localhost';
  openssl(
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-keyout', file('ca.key'), '-out', file('ca.pem'), '-subj', '/CN=FileFerry test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  );
  if (signed === 'self') {
    openssl(
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
      '-keyout', file('server.key'), '-out', file('server.pem'), '-subj', '/CN=localhost', '-addext', san,
    );
  } else {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
    writeFileSync(
      file('server.ext'),
      `${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(
      'x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
      '-sha256', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem'),
    );
  }
  return { caPem: readFileSync(file('ca.pem'), 'utf8'), certFile: file('server.pem'), keyFile: file('server.key') };
}
