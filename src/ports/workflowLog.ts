/**
 * The logging the workflow needs (pino's Logger satisfies it), so the workflow depends on no
 * logging library. Fields never carry a credential.
 */
export interface WorkflowLog {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
