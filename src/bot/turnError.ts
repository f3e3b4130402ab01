import { randomUUID } from 'node:crypto';
import type { TurnContext } from 'botbuilder';
import { isFerryError } from '../domain/errors';
import { currentLogContext, errorFields, type Logger } from '../log';
import { errorCard, type RenderedCard } from './screenCards';

/** The correlation ID of the current HTTP request (set by the server), or a new one. */
export function correlationId(): string {
  return currentLogContext().correlationId ?? randomUUID();
}

/**
 * The card for an unexpected failure: a FileFerry error shows its own message and hint (they
 * never hold secrets); anything else a generic sentence. Always with the correlation ID, which is
 * on every log line of the request, so support can find the detail.
 */
export function failureCard(e: unknown, log: Logger): RenderedCard {
  const id = correlationId();
  log.error({ correlationId: id, ...errorFields(e) }, 'turn failed');
  const message = isFerryError(e)
    ? [e.message, e.hint].filter(Boolean).join(' ')
    : 'Something went wrong on our side. Please try again; if it keeps happening, give this ID to support.';
  return errorCard(id, message);
}

/** The adapter's one onTurnError: log the detail (redacted), show the friendly error card. */
export function createTurnErrorHandler(log: Logger): (context: TurnContext, error: Error) => Promise<void> {
  return async (context, error) => {
    const card = failureCard(error, log);
    try {
      await context.sendActivity({ attachments: [card.attachment] });
    } catch (e) {
      log.error({ ...errorFields(e) }, 'could not send the error card');
    }
  };
}
