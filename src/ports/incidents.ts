/**
 * Opening an incident for something that failed with no person watching (push mode's final
 * failures, missed expectations). `open` is idempotent by `correlationId`: asked twice for the
 * same one (a restart, a lost reply), it returns the incident the first call opened, so an object
 * never gets a second incident.
 *
 * Throws TicketingError: AUTH_FAILED / ACCESS_DENIED (the integration user), INVALID_CONFIG,
 * NETWORK / TIMEOUT / THROTTLED / SERVER_ERROR (retryable). Text never carries a secret.
 */
export interface NewIncident {
  /** Stable and unique per failed thing (push mode: the ledger's object id). */
  correlationId: string;
  /** One line. */
  summary: string;
  description: string;
  /** '1' (critical) … '4' (low). Default '3'. */
  priority?: string;
}

export interface IncidentRef {
  number: string;
  url?: string;
}

export interface Incidents {
  open(incident: NewIncident, signal?: AbortSignal): Promise<IncidentRef>;
}
