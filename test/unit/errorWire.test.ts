import { strict as assert } from 'node:assert';
import { fromWire, toWire } from '../../src/domain/errorWire';
import {
  ConfigError,
  DestinationError,
  IdentityError,
  NotifyError,
  PathError,
  SecretsError,
  SourceError,
  StoreError,
  TicketingError,
  TransferError,
  type FerryError,
} from '../../src/domain/errors';

describe('errors across a thread boundary (errorWire)', () => {
  const cases: FerryError[] = [
    new SourceError('SOURCE_CHANGED', 'changed', { hint: 'start again' }),
    new DestinationError('NETWORK', 'cut', { hint: 'retry', cause: new Error('ECONNRESET') }),
    new TransferError('CANCELLED', 'stopped'),
    new PathError('bad path', 'use /in'),
    new ConfigError('no key', 'pin it', 'HOST_KEY_UNKNOWN'),
    new IdentityError('SESSION_EXPIRED', 'ended', { retryable: false }),
    new TicketingError('THROTTLED', 'slow down'),
    new StoreError('CONFLICT', 'raced', { retryable: true }),
    new NotifyError('SERVER_ERROR', '500'),
    new SecretsError('SECRET_NOT_FOUND', 'env:X names nothing', { hint: 'set X' }),
  ];

  for (const original of cases) {
    it(`${original.name} ${original.code} keeps its class, code, hint and retry flag`, () => {
      // structuredClone is what postMessage does to the wire form.
      const back = fromWire(structuredClone(toWire(original)));
      assert.equal(back.constructor, original.constructor);
      assert.deepEqual(
        { area: back.area, code: back.code, message: back.message, hint: back.hint, retryable: back.retryable },
        { area: original.area, code: original.code, message: original.message, hint: original.hint, retryable: original.retryable },
      );
    });
  }

  it('keeps a cause as one line for the log', () => {
    const back = fromWire(toWire(new DestinationError('NETWORK', 'cut', { cause: new Error('ECONNRESET') })));
    assert.match(String((back.cause as Error).message), /Error: ECONNRESET/);
  });

  it('an error that is not a FerryError becomes INTERNAL, saying what it was', () => {
    const back = fromWire(toWire(new RangeError('offset out of range')));
    assert.ok(back instanceof TransferError);
    assert.equal(back.code, 'INTERNAL');
    assert.match(back.message, /offset out of range/);
  });
});
