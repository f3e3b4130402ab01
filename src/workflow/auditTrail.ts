import type { AuditEvent, AuditLog } from '../ports/auditLog';
import type { WorkflowLog } from '../ports/workflowLog';

/**
 * The workflow's way to the audit log: a failed append is logged at error and never undoes or
 * blocks the user's step (the log line says which event was lost).
 */
export class AuditTrail {
  constructor(
    private readonly audit: AuditLog,
    private readonly log: WorkflowLog,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    try {
      await this.audit.append(event);
    } catch (e) {
      this.log.error({ auditEvent: event.type, requestId: event.requestId, error: (e as Error).message }, 'audit append failed');
    }
  }
}
