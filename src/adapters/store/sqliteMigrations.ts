/**
 * The SQLite schema, as numbered migrations. Each is applied once, in its own transaction, and
 * recorded in `schema_migrations`; never edit one that has shipped — add the next number.
 *
 * Tables (all STRICT):
 * - `requests`: one row per request. `record` is the RequestRecord as JSON (the truth); `user_id`,
 *   `state`, `created_at`, `updated_at` are copies of its fields for the indexes.
 * - `host_keys`: one row per confirmed SFTP host key, keyed by (`host` lowercased, `port`,
 *   `key_type`) since migration 5; `key_type` '' is a key confirmed without its type (every row
 *   written before migration 5), which stands for every type (see ports/hostKeyStore.ts).
 * - `audit_records`: one row per audit record, keyed by (`chain`, `seq`), so two writers can never
 *   both add the same `seq` (the chain cannot fork). `record` is the AuditRecord exactly as sealed,
 *   JSON-encoded (`hash`, `hmac` included); `at` and `request_id` are copies for the export filters.
 *   An auditor verifies from `record` alone: see domain/auditChain.ts.
 * - `documents`: the DocumentStore's versioned JSON documents, keyed by (`collection`, `id`).
 *   `body` is the JSON body; `expires_at` (ISO UTC, or NULL) hides a row from readers once past,
 *   and rows are purged lazily. Ids compare with SQLite's BINARY collation, i.e. by UTF-8 bytes,
 *   which is the order the port promises.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'requests',
    sql: `
      CREATE TABLE requests (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        record TEXT NOT NULL
      ) STRICT;
      CREATE INDEX requests_by_user ON requests (user_id, created_at DESC, id DESC);
      CREATE INDEX requests_by_state ON requests (state, updated_at);`,
  },
  {
    version: 2,
    name: 'host_keys',
    sql: `
      CREATE TABLE host_keys (
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        confirmed_at TEXT NOT NULL,
        PRIMARY KEY (host, port)
      ) STRICT, WITHOUT ROWID;`,
  },
  {
    version: 3,
    name: 'audit_records',
    sql: `
      CREATE TABLE audit_records (
        chain TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        request_id TEXT,
        record TEXT NOT NULL,
        PRIMARY KEY (chain, seq)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX audit_records_by_time ON audit_records (chain, at);
      CREATE INDEX audit_records_by_request ON audit_records (chain, request_id, seq);`,
  },
  {
    version: 4,
    name: 'documents',
    sql: `
      CREATE TABLE documents (
        collection TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        expires_at TEXT,
        PRIMARY KEY (collection, id)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX documents_by_expiry ON documents (expires_at) WHERE expires_at IS NOT NULL;`,
  },
  {
    version: 5,
    name: 'host_keys_by_key_type',
    // SQLite cannot change a primary key in place: the table is rebuilt, its rows kept as keys of
    // unknown type ('').
    sql: `
      CREATE TABLE host_keys_by_type (
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        key_type TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        confirmed_at TEXT NOT NULL,
        PRIMARY KEY (host, port, key_type)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO host_keys_by_type (host, port, key_type, fingerprint, confirmed_at) SELECT host, port, '', fingerprint, confirmed_at FROM host_keys;
      DROP TABLE host_keys;
      ALTER TABLE host_keys_by_type RENAME TO host_keys;`,
  },
];
