import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * SSH host keys the way OpenSSH shows and stores them: SHA-256 fingerprints (`SHA256:` + unpadded
 * base64 of the SHA-256 of the public key blob, what `ssh-keygen -l` prints) and known_hosts files
 * (plain `host`, `[host]:port`, hashed `|1|salt|hash` names, wildcards, `!` negation and the
 * `@revoked` marker). Pure functions: no I/O, so every rule is unit-tested.
 */

/** `SHA256:` + unpadded base64 of sha256(blob), identical to OpenSSH's fingerprint of the key. */
export function fingerprintOf(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The key type named inside an SSH public key blob ("ssh-ed25519", "ssh-rsa", …), or undefined. */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) return undefined;
  return blob.toString('latin1', 4, 4 + length);
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/**
 * Returns `input` as a canonical `SHA256:…` fingerprint (trimmed, trailing '=' dropped), or
 * undefined when it is not one (an MD5 `aa:bb:…` fingerprint, a typo, a truncated copy).
 */
export function normalizeFingerprint(input: string): string | undefined {
  const trimmed = input.trim().replace(/=+$/, '');
  const withPrefix = /^sha256:/i.test(trimmed) ? 'SHA256:' + trimmed.slice(7) : trimmed;
  return FINGERPRINT.test(withPrefix) ? withPrefix : undefined;
}

/** How OpenSSH names a host in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

export interface KnownHostEntry {
  /** 1-based line number in the file, for messages. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Comma-separated patterns (plain entries) … */
  patterns?: string[];
  /** … or one hashed name: HMAC-SHA1 of the name, keyed with the salt. */
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: Buffer;
}

/**
 * Parses a known_hosts file. Blank lines, comments and lines that are not a valid entry are
 * skipped, as OpenSSH does, so one bad line never locks the operator out of every server.
 */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]!.startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0]!.startsWith('@')) {
      const name = fields.shift()!.slice(1);
      if (name !== 'revoked' && name !== 'cert-authority') return;
      marker = name;
    }
    const [names, keyType, base64] = fields;
    if (!names || !keyType || !base64) return;
    const key = Buffer.from(base64, 'base64');
    if (key.length === 0 || keyTypeOf(key) !== keyType) return;
    const entry: KnownHostEntry = { line: index + 1, keyType, key, ...(marker ? { marker } : {}) };
    if (names.startsWith('|1|')) {
      const [, , salt, hash] = names.split('|');
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = names.split(',').filter((p) => p !== '');
    }
    entries.push(entry);
  });
  return entries;
}

/** Whether an entry names `host` on `port` (hashed names, patterns, wildcards and negation). */
export function entryMatches(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (entry.hashed) {
    const mine = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return mine.length === entry.hashed.hash.length && timingSafeEqual(mine, entry.hashed.hash);
  }
  let matched = false;
  for (const pattern of entry.patterns ?? []) {
    const negated = pattern.startsWith('!');
    if (!wildcardMatch(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** OpenSSH's pattern language: `*` any run, `?` one character, case-insensitive. */
function wildcardMatch(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}

export type KnownHostsVerdict =
  | { status: 'known'; line: number }
  | { status: 'unknown' }
  /** The host is listed, but with other keys: the server's key changed (or is an impostor's). */
  | { status: 'changed'; expected: { fingerprint: string; keyType: string; line: number }[] }
  | { status: 'revoked'; line: number };

/**
 * Decides what known_hosts says about `blob` presented by `host`:`port`. A revoked key is refused
 * whatever else is listed; a listed key is known; a host listed only with other keys has changed
 * (FileFerry refuses rather than adding a second key silently); an unlisted host is unknown.
 * `@cert-authority` lines are ignored: host certificates are not supported.
 */
export function checkKnownHosts(entries: KnownHostEntry[], host: string, port: number, blob: Buffer): KnownHostsVerdict {
  const mine = entries.filter((e) => e.marker !== 'cert-authority' && entryMatches(e, host, port));
  const revoked = mine.find((e) => e.marker === 'revoked' && e.key.equals(blob));
  if (revoked) return { status: 'revoked', line: revoked.line };
  const listed = mine.filter((e) => e.marker === undefined);
  const same = listed.find((e) => e.key.equals(blob));
  if (same) return { status: 'known', line: same.line };
  if (listed.length === 0) return { status: 'unknown' };
  return {
    status: 'changed',
    expected: listed.map((e) => ({ fingerprint: fingerprintOf(e.key), keyType: e.keyType, line: e.line })),
  };
}

/**
 * The host key algorithms that produce a key of `keyType`, so a client can ask first for the
 * kind of key known_hosts already holds (as OpenSSH does) instead of tripping over another one.
 */
export function algorithmsForKeyType(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

/** The key types known_hosts lists for `host`:`port`, in file order, without duplicates. */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const types = entries.filter((e) => e.marker === undefined && entryMatches(e, host, port)).map((e) => e.keyType);
  return [...new Set(types)];
}

/** One known_hosts line for this key, to paste into the file (public data, never secret). */
export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${knownHostsName(host, port)} ${keyTypeOf(blob) ?? 'unknown'} ${blob.toString('base64')}`;
}
