import { SecretsError } from '../../domain/errors';
import { describeRef, parseSecretRef, type SecretRef } from '../../domain/secretRef';
import type { SchemeSecretStore } from '../../ports/secretStore';
import { invalidRef, secretCancelled } from './secretErrors';

/** What a POSIX shell accepts as a variable name, so the name can be set the usual way. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `env:NAME`: an environment variable of this process. The environment is read at each resolve
 * (not copied at start-up), so a test or a supervisor that changes it is seen at once. An empty
 * variable counts as unset: an empty password is a deployment mistake, not a secret.
 */
export class EnvSecrets implements SchemeSecretStore {
  readonly scheme = 'env';

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  check(ref: SecretRef): void {
    this.variable(ref);
  }

  async resolve(ref: SecretRef, signal?: AbortSignal): Promise<string> {
    const name = this.variable(ref);
    if (signal?.aborted) throw secretCancelled(ref);
    const value = this.env[name];
    if (value === undefined || value === '') {
      throw new SecretsError('SECRET_NOT_FOUND', `The secret ${describeRef(ref)} names the environment variable ${name}, which is ${value === undefined ? 'not set' : 'empty'}.`, {
        hint: `Set ${name} in FileFerry's environment (or point the reference at a file or a vault), then try again.`,
      });
    }
    return value;
  }

  private variable(ref: SecretRef): string {
    const { scheme, locator } = parseSecretRef(ref);
    if (scheme !== this.scheme) throw invalidRef(ref, `it is not an ${this.scheme}: reference`, 'Write it as env:NAME.');
    if (!NAME.test(locator)) {
      throw invalidRef(ref, 'an environment variable name has only letters, digits and underscores, and does not start with a digit', 'Write it as env:NAME, such as env:ACME_SFTP_PASSWORD.');
    }
    return locator;
  }
}
