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
const fingerprint = (n: number): string => `SHA256:${Buffer.alloc(32, n).toString('base64').replace(/=+$/, '')}`;

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

    it('get of a host nobody confirmed is undefined', async () => {
      assert.equal(await store.get(host, 22), undefined);
    });

    it('the first key confirmed is the key: trust returns true, get returns it', async () => {
      assert.equal(await store.trust(host, 22, fingerprint(1)), true);
      assert.equal(await store.get(host, 22), fingerprint(1));
    });

    it('confirming the same key again is true and changes nothing', async () => {
      await store.trust(host, 22, fingerprint(1));
      assert.equal(await store.trust(host, 22, fingerprint(1)), true);
      assert.equal(await store.get(host, 22), fingerprint(1));
    });

    it('a different key later is refused (false) and the first one stays', async () => {
      await store.trust(host, 22, fingerprint(1));
      assert.equal(await store.trust(host, 22, fingerprint(2)), false);
      assert.equal(await store.get(host, 22), fingerprint(1));
    });

    it('host names compare case-insensitively', async () => {
      await store.trust(host.toUpperCase(), 22, fingerprint(1));
      assert.equal(await store.get(host, 22), fingerprint(1));
      assert.equal(await store.get(host.replace('sftp', 'SFTP'), 22), fingerprint(1));
      assert.equal(await store.trust(host, 22, fingerprint(2)), false);
    });

    it('ports are distinct: each host:port has its own key', async () => {
      await store.trust(host, 22, fingerprint(1));
      assert.equal(await store.get(host, 2222), undefined);
      assert.equal(await store.trust(host, 2222, fingerprint(2)), true);
      assert.equal(await store.get(host, 22), fingerprint(1));
      assert.equal(await store.get(host, 2222), fingerprint(2));
    });

    it('two different keys confirmed at once: exactly one wins, and get agrees with it', async () => {
      const [a, b] = await Promise.all([store.trust(host, 22, fingerprint(1)), store.trust(host, 22, fingerprint(2))]);
      assert.equal(Number(a) + Number(b), 1, `one of the two wins: ${a}, ${b}`);
      assert.equal(await store.get(host, 22), a ? fingerprint(1) : fingerprint(2));
    });

    if (factory.reopen) {
      const reopen = factory.reopen.bind(factory);
      describe('after a restart (a new instance over the same storage)', () => {
        it('the confirmed key is still the key, and another one is still refused', async () => {
          await store.trust(host, 22, fingerprint(1));
          await store.trust(host, 2222, fingerprint(3));
          const again = await reopen();
          assert.equal(await again.get(host.toUpperCase(), 22), fingerprint(1));
          assert.equal(await again.get(host, 2222), fingerprint(3));
          assert.equal(await again.trust(host, 22, fingerprint(2)), false);
          assert.equal(await again.get(host, 22), fingerprint(1));
        });
      });
    }
  });
}
