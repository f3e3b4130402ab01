import { strict as assert } from 'node:assert';
import { cardFor } from '../../src/bot/screenCards';
import { actionsOf, cardText } from '../support/cardQuery';

// cards.test.ts parses every template, this one included; this checks what the bot puts in it.
describe('the "Cancelling…" card', () => {
  const content = cardFor({ kind: 'cancelling', requestId: 'FF-7K3M9Q2X', fileName: 'blob.bin' }).attachment.content as Record<string, unknown>;

  it('says the transfer is stopping, names the request, and has no Cancel button', () => {
    const text = cardText(content);
    assert.match(text, /Cancelling blob\.bin/);
    assert.match(text, /FF-7K3M9Q2X/);
    assert.ok(!/\$\{/.test(JSON.stringify(content)), 'fully expanded');
    assert.deepEqual(actionsOf(content), []);
  });
});
