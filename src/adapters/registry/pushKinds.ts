import { join } from 'node:path';
import type { AppConfig } from '../../config';
import { ConfigError } from '../../domain/errors';
import type { DestinationSpec } from '../../domain/destinationSpec';
import type { Destination } from '../../ports/destination';
import type { Incidents } from '../../ports/incidents';
import type { ObjectEventTrigger } from '../../ports/objectEvents';
import type { PgpEncryptor } from '../../ports/pgp';
import type { PushEngine } from '../../ports/pushEngine';
import type { SecretStore } from '../../ports/secretStore';
import type { StorageSource } from '../../ports/storageSource';
import type { WorkflowLog } from '../../ports/workflowLog';
import { destinationFactory } from '../destination/destinationFactory';
import { OpenPgpEncryptor } from '../pgp/openPgpEncryptor';
import { buildSecrets, sourceSchemes } from '../registry';
import { LocalSource } from '../source/localSource';
import { LocalIncidents } from '../ticketing/localIncidents';

/** What the SNS route of the bot's server calls. */
export interface SnsHandler {
  handle(headers: Record<string, string | string[] | undefined>, rawBody: string): Promise<{ status: number; body?: string }>;
}

/**
 * Push mode's part of the registry: the concrete backends a push rule needs, built from plain
 * data (push/ reaches them only through these factories and the ports they return). The roots
 * hand this to `buildPushMode` (src/push/pushMode.ts). SDKs load only when a rule needs them.
 */
export function pushKinds(config: AppConfig, env: NodeJS.ProcessEnv, log: WorkflowLog) {
  const secrets: SecretStore = buildSecrets({ env, config, log });
  const bySchemes = new Map<string, StorageSource>();
  return {
    /** The watched place's source, read with the service's own identity. */
    source(place: { scheme: 's3' | 'azblob' | 'file'; root?: string }): StorageSource {
      if (place.scheme === 'file') return new LocalSource(place.root ?? '/');
      let source = bySchemes.get(place.scheme);
      if (!source) bySchemes.set(place.scheme, (source = sourceSchemes[place.scheme](env)));
      return source;
    },
    destination(spec: DestinationSpec): Destination {
      return destinationFactory.open(spec, { secrets });
    },
    /** What resolves the saved destinations' secrets (for a transfer run in a worker thread). */
    secrets,
    pgp(): PgpEncryptor {
      return new OpenPgpEncryptor();
    },
    transferFamily(connectorId: string): PushEngine {
      const { TransferFamilyEngine } = require('../transferFamily/transferFamilyEngine') as { TransferFamilyEngine: new (o: { connectorId: string; log: WorkflowLog }) => PushEngine };
      return new TransferFamilyEngine({ connectorId, log });
    },
    sqs(queueUrl: string, visibilityTimeoutSeconds: number): ObjectEventTrigger {
      const { SqsTrigger } = require('../trigger/sqsTrigger') as typeof import('../trigger/sqsTrigger');
      return new SqsTrigger({ queueUrl, visibilityTimeoutSeconds, log });
    },
    sns(topicArns: string[]): ObjectEventTrigger & SnsHandler {
      const { SnsEndpoint } = require('../trigger/snsEndpoint') as typeof import('../trigger/snsEndpoint');
      return new SnsEndpoint({ topicArns, log });
    },
    incidents(): Incidents {
      return incidentsFor(config, env, log);
    },
  };
}

/** Final push failures open incidents where the request tickets go: ServiceNow, or the local desk. */
function incidentsFor(config: AppConfig, env: NodeJS.ProcessEnv, log: WorkflowLog): Incidents {
  const t = config.ticketing;
  if (t.kind !== 'servicenow') return new LocalIncidents(join(config.dataDir, 'incidents.jsonl'));
  const { ServiceNowIncidents } = require('../ticketing/serviceNowIncidents') as typeof import('../ticketing/serviceNowIncidents');
  const secrets = buildSecrets({ env, config, log });
  const ref = (r: string) => () => secrets.resolve(r);
  const user = t.SERVICENOW_USERNAME && t.SERVICENOW_PASSWORD_REF ? { username: t.SERVICENOW_USERNAME, password: ref(t.SERVICENOW_PASSWORD_REF) } : undefined;
  const auth = t.SERVICENOW_CLIENT_ID && t.SERVICENOW_CLIENT_SECRET_REF
    ? { kind: 'oauth' as const, clientId: t.SERVICENOW_CLIENT_ID, clientSecret: ref(t.SERVICENOW_CLIENT_SECRET_REF), ...user }
    : user ? { kind: 'basic' as const, ...user } : undefined;
  if (!auth) throw new ConfigError('Push incidents in ServiceNow need the integration user (SERVICENOW_USERNAME and SERVICENOW_PASSWORD_REF) or OAuth (SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET_REF).', 'Set them as for the request tickets; see the README.');
  return new ServiceNowIncidents({
    instanceUrl: t.SERVICENOW_INSTANCE_URL,
    auth,
    ...(t.SERVICENOW_AUDIT_GROUP ? { assignmentGroup: t.SERVICENOW_AUDIT_GROUP } : {}),
    timeoutMs: t.SERVICENOW_TIMEOUT_SECONDS * 1000,
  });
}
