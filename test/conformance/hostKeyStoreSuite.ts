import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { HostKeyStore } from '../../src/ports/hostKeyStore';

/**
 * What an adapter's test file hands the shared suite. `reopen` works on the storage of the most
 * recent `create()`, and is looked at when the suite is declared: its cases are registered only
 * for stores that outlive the instance (nothing is skipped).
 */
export interface HostKeyStoreFactory {
  /** A store ready to use. Called before each test; the suite keeps tests apart by host name. */
  create(): Promise<HostKeyStore>;
  /** A new store instance over the same storage (a restart). Leave out for storage that lives in the instance (memory). */
  reopen?(): Promise<HostKeyStore>;
}

/** A fingerprint as ssh-keygen -lf prints it, different for each `n`. */
export const fingerprint = (n: number): string => `SHA256:${Buffer.alloc(32, n).toString('base64').replace(/=+$/, '')}`;

const ED25519 = 'ssh-ed25519';
const ECDSA = 'ecdsa-sha2-nistp256';
const RSA = 'ssh-rsa';

/** The contract of `src/ports/hostKeyStore.ts`, run against each host key store. */
export function hostKeyStoreConformance(name: string, factory: HostKeyStoreFactory): void {
  describe(`HostKeyStore conformance: ${name}`, function () {
    let store: HostKeyStore;
    /** Unique per test, so stores shared between tests never mix their hosts. */
    let host: string;

    beforeEach(async () => {
      store = await factory.create();
      host = `sftp-${randomBytes(4).toString('hex')}.example.com`;
    });

    it('get of a host nobody confirmed is undefined, whatever the key type', async () => {
      assert.equal(await store.get(host, 22, ED25519), undefined);
      assert.equal(await store.get(host, 22), undefined);
    });

    it('the first key of a type is the key: trust returns true, get returns it (with its type, and without one)', async () => {
      assert.equal(await store.trust(host, 22, ED25519, fingerprint(1)), true);
      assert.equal(await store.get(host, 22, ED25519), fingerprint(1));
      assert.equal(await store.get(host, 22), fingerprint(1));
    });

    it('confirming the same key again is true and changes nothing', async () => {
      await store.trust(host, 22, ED25519, fingerprint(1));
      assert.equal(await store.trust(host, 22, ED25519, fingerprint(1)), true);
      assert.equal(await store.get(host, 22, ED25519), fingerprint(1));
    });

    it('a different key of the same type later is refused (false) and the first one stays', async () => {
      await store.trust(host, 22, ED25519, fingerprint(1));
      assert.equal(await store.trust(host, 22, ED25519, fingerprint(2)), false);
      assert.equal(await store.get(host, 22, ED25519), fingerprint(1));
    });

    it('a key of another type is its own: both confirmed keys stay valid, and each type refuses a different key', async () => {
      await store.trust(host, 22, ED25519, fingerprint(1));
      assert.equal(await store.get(host, 22, ECDSA), undefined, 'no ecdsa key is confirmed yet');
      assert.equal(await store.trust(host, 22, ECDSA, fingerprint(2)), true);
      assert.equal(await store.get(host, 22, ED25519), fingerprint(1));
      assert.equal(await store.get(host, 22, ECDSA), fingerprint(2));
      assert.equal(await store.trust(host, 22, ECDSA, fingerprint(3)), false);
      assert.equal(await store.trust(host, 22, ED25519, fingerprint(2)), false, 'the ecdsa key is not an ed25519 key');
      assert.equal(await store.trust(host, 22, ED25519, fingerprint(1)), true);
      assert.equal(await store.trust(host, 22, ECDSA, fingerprint(2)), true);
    });

    it('get without a type is the key confirmed first', async () => {
      await store.trust(host, 22, ECDSA, fingerprint(4));
      await store.trust(host, 22, ED25519, fingerprint(5));
      assert.equal(await store.get(host, 22), fingerprint(4));
    });

    it('a key of unknown type: the first one wins for every type until it is presented with its type', async () => {
      assert.equal(await store.trust(host, 22, undefined, fingerprint(1)), true);
      assert.equal(await store.trust(host, 22, undefined, fingerprint(2)), false);
      assert.equal(await store.get(host, 22), fingerprint(1));
      assert.equal(await store.get(host, 22, ECDSA), fingerprint(1), 'it stands for every type');
      assert.equal(await store.trust(host, 22, ECDSA, fingerprint(2)), false, 'another key is refused, as a changed key would be');
      // The server presents it with its type: now it is the ed25519 key, and ecdsa is free.
      assert.equal(await store.trust(host, 22, ED25519, fingerprint(1)), true);
      assert.equal(await store.get(host, 22, ECDSA), undefined);
      assert.equal(await store.trust(host, 22, ECDSA, fingerprint(2)), true);
      assert.equal(await store.get(host, 22, ED25519), fingerprint(1));
      assert.equal(await store.get(host, 22, ECDSA), fingerprint(2));
      assert.equal(await store.trust(host, 22, undefined, fingerprint(2)), true, 'a confirmed key, type unknown to the caller');
      assert.equal(await store.trust(host, 22, undefined, fingerprint(3)), false);
      assert.equal(await store.get(host, 22, RSA), undefined);
    });

    it('host names compare case-insensitively', async () => {
      await store.trust(host.toUpperCase(), 22, ED25519, fingerprint(1));
      assert.equal(await store.get(host, 22, ED25519), fingerprint(1));
      assert.equal(await store.get(host.replace('sftp', 'SFTP'), 22, ED25519), fingerprint(1));
      assert.equal(await store.trust(host, 22, ED25519, fingerprint(2)), false);
    });

    it('ports are distinct: each host:port has its own keys', async () => {
      await store.trust(host, 22, ED25519, fingerprint(1));
      assert.equal(await store.get(host, 2222, ED25519), undefined);
      assert.equal(await store.trust(host, 2222, ED25519, fingerprint(2)), true);
      assert.equal(await store.get(host, 22, ED25519), fingerprint(1));
      assert.equal(await store.get(host, 2222, ED25519), fingerprint(2));
    });

    it('two different keys of one type confirmed at once: exactly one wins, and get agrees with it', async () => {
      const [a, b] = await Promise.all([store.trust(host, 22, ED25519, fingerprint(1)), store.trust(host, 22, ED25519, fingerprint(2))]);
      assert.equal(Number(a) + Number(b), 1, `one of the two wins: ${a}, ${b}`);
      assert.equal(await store.get(host, 22, ED25519), a ? fingerprint(1) : fingerprint(2));
    });

    it('keys of different types confirmed at once: every one is kept', async () => {
      const types = [ED25519, ECDSA, RSA, 'ecdsa-sha2-nistp384'];
      const results = await Promise.all(types.map((t, i) => store.trust(host, 22, t, fingerprint(10 + i))));
      assert.deepEqual(results, types.map(() => true));
      for (const [i, t] of types.entries()) assert.equal(await store.get(host, 22, t), fingerprint(10 + i), t);
    });

    if (factory.reopen) {
      const reopen = factory.reopen.bind(factory);
      describe('after a restart (a new instance over the same storage)', () => {
        it('the confirmed keys are still the keys, by type, and another one is still refused', async () => {
          await store.trust(host, 22, ED25519, fingerprint(1));
          await store.trust(host, 22, ECDSA, fingerprint(4));
          await store.trust(host, 2222, ED25519, fingerprint(3));
          const again = await reopen();
          assert.equal(await again.get(host.toUpperCase(), 22, ED25519), fingerprint(1));
          assert.equal(await again.get(host, 22, ECDSA), fingerprint(4));
          assert.equal(await again.get(host, 2222, ED25519), fingerprint(3));
          assert.equal(await again.trust(host, 22, ED25519, fingerprint(2)), false);
          assert.equal(await again.get(host, 22, ED25519), fingerprint(1));
        });
      });
    }
  });
}
