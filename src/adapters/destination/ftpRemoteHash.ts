/**
 * How to ask an FTP server for a file's SHA-256, from its FEAT reply:
 * - `HASH` (draft-bryan-ftpext-hash): FEAT lists `HASH SHA-1*;SHA-256;…` (`*` marks the selected
 *   one); `OPTS HASH SHA-256` selects it, then `HASH <path>` answers
 *   `213 SHA-256 0-<end> <hex> <path>` (proftpd's mod_digest first sends a `213-Computing…` line).
 * - `XSHA256 <path>` (older, mod_digest and some Windows servers): answers `250 <HEX>`. Its
 *   arguments are split on spaces, so the path is quoted; a path with a quote cannot be sent.
 */
export type HashPlan =
  | { kind: 'HASH'; select: string; command: string }
  | { kind: 'XSHA256'; command: string };

export function planSha256(features: ReadonlyMap<string, string>, path: string): HashPlan | undefined {
  const offered = (features.get('HASH') ?? '').split(';').map((a) => a.replace(/\*$/, '').trim().toUpperCase());
  if (features.has('HASH') && offered.includes('SHA-256')) {
    return { kind: 'HASH', select: 'OPTS HASH SHA-256', command: `HASH ${path}` };
  }
  if (features.has('XSHA256') && !path.includes('"')) {
    return { kind: 'XSHA256', command: `XSHA256 "${path}"` };
  }
  return undefined;
}

/**
 * The lower-case hex digest in a HASH or XSHA256 reply, or undefined when the reply holds none
 * (or, for HASH, names another algorithm or a partial range).
 */
export function parseSha256Reply(plan: HashPlan, message: string, size?: number): string | undefined {
  const last = message.split('\n').filter((l) => l.trim() !== '').at(-1) ?? '';
  if (plan.kind === 'HASH') {
    const m = /^\d{3} (\S+) (\d+)-(\d+) ([0-9a-fA-F]{64})(?: |$)/.exec(last);
    if (!m || m[1]!.toUpperCase() !== 'SHA-256' || m[2] !== '0') return undefined;
    if (size !== undefined && Number(m[3]) !== size) return undefined;
    return m[4]!.toLowerCase();
  }
  const m = /^\d{3} ([0-9a-fA-F]{64})\b/.exec(last);
  return m ? m[1]!.toLowerCase() : undefined;
}
