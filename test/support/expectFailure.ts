import { strict as assert } from 'node:assert';
import type { Readable } from 'node:stream';
import { FerryError, type ErrorCode } from '../../src/domain/errors';

/** Any FerryError class, the abstract-looking base included, usable on the right of `instanceof`. */
export type FerryErrorClass<E extends FerryError> = abstract new (...args: never[]) => E;

/** What the failure must look like; each field left out is not checked. */
export interface ExpectedFailure<E extends FerryError> {
  /** The error class the rejection must be an instance of. Default: FerryError (always checked). */
  type?: FerryErrorClass<E>;
  /** The stable code the error must carry. */
  code?: ErrorCode;
  /** When true, the error must also carry a non-empty `hint` telling the person what to do. */
  withHint?: boolean;
}

/**
 * Awaits `promise` and asserts that it rejects with a typed FileFerry error: an instance of
 * `expected.type` (FerryError when left out), carrying `expected.code` and a hint when asked.
 * Fails the test with a message naming what was expected when the promise resolves instead, or
 * when it rejects with anything else. Returns the error, typed, so the test can check more.
 *
 * One helper for every test file, so that "it must fail this way" reads and checks the same
 * everywhere.
 */
export async function expectFailure<E extends FerryError = FerryError>(
  promise: Promise<unknown>,
  expected: ExpectedFailure<E> = {},
): Promise<E> {
  const type: FerryErrorClass<FerryError> = expected.type ?? FerryError;
  const wanted = `${type.name}${expected.code ? ` ${expected.code}` : ''}`;
  let resolved = false;
  let error: unknown;
  try {
    await promise;
    resolved = true;
  } catch (e) {
    error = e;
  }
  if (resolved) assert.fail(`expected a failure (${wanted}), but the promise resolved`);
  assert.ok(error instanceof type, `expected a ${type.name}, got ${String(error)}`);
  const failure = error as E;
  if (expected.code !== undefined) assert.equal(failure.code, expected.code, failure.message);
  if (expected.withHint) assert.ok(failure.hint.length > 0, `every error says what to do next: ${failure.message}`);
  return failure;
}

/** Reads a stream to its end and returns every byte it gave, in order. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
