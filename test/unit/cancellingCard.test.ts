import { strict as assert } from 'node:assert';
import type * as AdaptiveCards from 'adaptivecards';
import { cardFor } from '../../src/bot/screenCards';
import { actionsOf, cardText } from '../support/cardQuery';

// The UMD bundle parses and validates cards without a DOM (see cards.test.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const AC: typeof AdaptiveCards = require('adaptivecards/dist/adaptivecards.js');

describe('the "Cancelling…" card (derived from the progress template)', () => {
  const content = cardFor({ kind: 'cancelling', requestId: 'FF-7K3M9Q2X', fileName: 'blob.bin' }).attachment.content as Record<string, unknown>;

  it('says the transfer is stopping, names the request, and has no Cancel button', () => {
    const text = cardText(content);
    assert.match(text, /Cancelling blob\.bin/);
    assert.match(text, /FF-7K3M9Q2X/);
    assert.ok(!/\$\{/.test(JSON.stringify(content)), 'fully expanded');
    assert.deepEqual(actionsOf(content), []);
  });

  it('parses with the adaptivecards package (schema 1.5) with no errors or warnings', () => {
    const parsed = new AC.AdaptiveCard();
    const context = new AC.SerializationContext(AC.Versions.v1_5);
    parsed.parse(content, context);
    const problems: string[] = [];
    for (let i = 0; i < context.eventCount; i++) problems.push(context.getEventAt(i).message);
    for (const e of parsed.validateProperties().validationEvents) problems.push(e.message);
    assert.deepEqual(problems, []);
  });
});
