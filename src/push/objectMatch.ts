/**
 * Which keys a rule sends: a glob over the key below the rule's prefix (`*` and `?` stay inside one
 * folder, `**` crosses folders), or an extension allowlist (case-insensitive), and a size limit.
 */
export interface MatchSpec {
  glob?: string;
  extensions?: string[];
  maxSize?: number;
}

export type MatchVerdict = { ok: true } | { ok: false; reason: string };

export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` also matches no folder at all.
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i++;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** `relativeKey` is the key with the rule's prefix taken off. */
export function matchObject(spec: MatchSpec, relativeKey: string, size: number | undefined): MatchVerdict {
  if (!relativeKey || relativeKey.endsWith('/')) return { ok: false, reason: 'a folder marker, not a file' };
  if (spec.glob && !globToRegExp(spec.glob).test(relativeKey)) return { ok: false, reason: `does not match ${spec.glob}` };
  if (spec.extensions?.length) {
    const lower = relativeKey.toLowerCase();
    if (!spec.extensions.some((e) => lower.endsWith(e.toLowerCase()))) return { ok: false, reason: `extension not in ${spec.extensions.join(', ')}` };
  }
  if (spec.maxSize !== undefined && size !== undefined && size > spec.maxSize) return { ok: false, reason: `${size} bytes is over the limit of ${spec.maxSize}` };
  return { ok: true };
}
