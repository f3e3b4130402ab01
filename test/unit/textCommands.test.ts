import assert from 'node:assert/strict';
import { parseTextCommand } from '../../src/bot/textCommands';

describe('parseTextCommand', () => {
  it('reads the five commands, case-insensitively and without mentions', () => {
    assert.deepEqual(parseTextCommand('transfer'), { command: 'transfer' });
    assert.deepEqual(parseTextCommand('New'), { command: 'transfer' });
    assert.deepEqual(parseTextCommand('<at>FileFerry</at> status ff-abcdefgh'), { command: 'status', requestId: 'FF-ABCDEFGH' });
    assert.deepEqual(parseTextCommand('status'), { command: 'status', requestId: undefined });
    assert.deepEqual(parseTextCommand('  HISTORY '), { command: 'history' });
    assert.deepEqual(parseTextCommand('cancel FF-23456789'), { command: 'cancel', requestId: 'FF-23456789' });
    assert.deepEqual(parseTextCommand('help'), { command: 'help' });
    assert.deepEqual(parseTextCommand(undefined), { command: 'help' });
  });

  it('turns anything else into help, saying what was not understood', () => {
    assert.deepEqual(parseTextCommand('please send my file'), { command: 'help', unknown: 'please send my file' });
  });
});
