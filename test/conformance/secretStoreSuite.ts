import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { FerryError, SecretsError, type ErrorCode } from '../../src/domain/errors';
import type { SecretRef } from '../../src/domain/secretRef';
import type { SchemeSecretStore } from '../../src/ports/secretStore';
import { expectFailure } from '../support/expectFailure';

/**
 * What an adapter's test file hands the shared suite. `put` writes to the backend itself (the
 * environment, the disk, the fake service's store), never through the adapter.
 */
export interface SecretStoreFixture {
  store: SchemeSecretStore;
  /** Arranges a secret called `name` holding `value` and returns its reference; the same name again rotates it. */
  put(name: string, value: string): Promise<SecretRef>;
  /** Well formed, naming nothing. */
  missingRef: SecretRef;
  /** Of this scheme, but malformed. */
  malformedRef: SecretRef;
  /** Makes the backend hold the next request without answering (stores that do network I/O). */
  stallNext?(): void;
  cleanup(): Promise<void>;
}

/** A value with what breaks naive handling: quotes, shell and JSON metacharacters, spaces, a newline inside, unicode. */
export function canary(): { value: string; token: string } {
  const token = `canary-${randomBytes(6).toString('hex')}`;
  return { token, value: `${token} p@ss w0rd:"q'\\;$&|<>{}%\nsecond line été ✓ 🔑 end` };
}

/** Every text a FerryError may be shown or logged as: message, hint, JSON, stack and causes. */
export function errorTexts(e: unknown): string {
  const parts: string[] = [];
  let at: unknown = e;
  for (let depth = 0; at && depth < 5; depth++) {
    const err = at as Error & Partial<FerryError>;
    parts.push(String(err), err.message ?? '', err.stack ?? '', err.hint ?? '');
    if (err instanceof FerryError) parts.push(JSON.stringify(err.toJSON()));
    at = err.cause;
  }
  return parts.join('\n');
}

/** The contract every SchemeSecretStore meets, run against each backend (real or wire-level fake). */
/**
 * `options.stalls`: the fixture offers `stallNext` (stores that do network I/O). Known when the
 * suite is declared, so the stall case exists only for them instead of being skipped for the rest.
 */
export function secretStoreConformance(name: string, make: () => Promise<SecretStoreFixture>, options: { stalls?: boolean } = {}): void {
  describe(`SecretStore conformance: ${name}`, function () {
    let f: SecretStoreFixture;
    /** Every canary token put anywhere and every error seen, for the last case's leak scan. */
    const tokens: string[] = [];
    const errors: unknown[] = [];
    let n = 0;

    before(async () => {
      f = await make();
    });
    after(async () => {
      await f?.cleanup();
    });

    async function putCanary(): Promise<{ ref: SecretRef; value: string }> {
      const { value, token } = canary();
      tokens.push(token);
      return { ref: await f.put(`ff-conf-${++n}-${randomBytes(3).toString('hex')}`, value), value };
    }

    async function fails(promise: Promise<unknown>, code: ErrorCode): Promise<SecretsError> {
      const error = await expectFailure(promise, { type: SecretsError, code, withHint: true });
      errors.push(error);
      return error;
    }

    function checkFails(ref: SecretRef): SecretsError {
      let thrown: unknown;
      try {
        f.store.check(ref);
      } catch (e) {
        thrown = e;
      }
      assert.ok(thrown instanceof SecretsError, `check(${JSON.stringify(ref)}) should throw a SecretsError, got ${String(thrown)}`);
      assert.equal(thrown.code, 'INVALID_CONFIG', thrown.message);
      errors.push(thrown);
      return thrown;
    }

    it('resolves a value with special characters, an inner newline and unicode, byte for byte', async () => {
      const { ref, value } = await putCanary();
      assert.ok(ref.startsWith(`${f.store.scheme}:`), ref);
      f.store.check(ref);
      assert.equal(await f.store.resolve(ref), value);
    });

    it('sees a rotated value on the very next resolve (nothing is cached)', async () => {
      const name = `ff-rot-${randomBytes(3).toString('hex')}`;
      const first = canary();
      const second = canary();
      tokens.push(first.token, second.token);
      const ref = await f.put(name, first.value);
      assert.equal(await f.store.resolve(ref), first.value);
      assert.equal(await f.put(name, second.value), ref, 'rotating keeps the reference');
      assert.equal(await f.store.resolve(ref), second.value);
    });

    it('a missing secret is SECRET_NOT_FOUND, naming the reference and no other secret', async () => {
      const other = await putCanary();
      assert.equal(await f.store.resolve(other.ref), other.value);
      f.store.check(f.missingRef);
      const error = await fails(f.store.resolve(f.missingRef), 'SECRET_NOT_FOUND');
      assert.ok(error.message.includes(f.missingRef), `the message names ${f.missingRef}: ${error.message}`);
      assert.equal(error.retryable, false);
      assert.ok(!errorTexts(error).includes(other.value.slice(0, 20)), 'the error carries no other secret');
    });

    it('a malformed reference fails check with INVALID_CONFIG, and resolve the same way', async () => {
      checkFails(f.malformedRef);
      await fails(f.store.resolve(f.malformedRef), 'INVALID_CONFIG');
    });

    it('a reference of another scheme is refused by check', () => {
      checkFails(`not-${f.store.scheme}:something`);
      checkFails('no scheme at all');
    });

    it('an already aborted signal gives CANCELLED', async () => {
      const { ref } = await putCanary();
      const controller = new AbortController();
      controller.abort();
      await fails(f.store.resolve(ref, controller.signal), 'CANCELLED');
    });

    if (options.stalls) {
      // A stalled backend would otherwise end as TIMEOUT after the call's deadline: CANCELLED shows the abort won.
      it('an abort while the backend is not answering gives CANCELLED', async () => {
        const { ref } = await putCanary();
        assert.ok(f.stallNext, 'a fixture declared with stalls offers stallNext');
        f.stallNext();
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 150);
        await fails(f.store.resolve(ref, controller.signal), 'CANCELLED');
      });
    }

    it('no error seen in this suite carries any secret value', () => {
      assert.ok(errors.length >= 5, `expected the cases above to produce errors, got ${errors.length}`);
      for (const error of errors) {
        const text = errorTexts(error);
        for (const token of tokens) assert.ok(!text.includes(token), `an error carries a secret: ${(error as Error).message}`);
      }
    });
  });
}
