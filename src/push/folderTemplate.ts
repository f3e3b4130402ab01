/**
 * A rule's target path template, such as `/in/{yyyy}/{MM}/{name}`. Dates are UTC and come from
 * when FileFerry first saw the object, so every retry and every process renders the same path.
 * Placeholders: {yyyy} {MM} {dd} {HH} {mm} {name} (the file name), {stem} and {ext} (name without
 * / with its last extension, the dot included), {key} (the key below the rule's prefix), {rule}.
 */
export const TEMPLATE_FIELDS = ['yyyy', 'MM', 'dd', 'HH', 'mm', 'name', 'stem', 'ext', 'key', 'rule'] as const;

export function checkTemplate(template: string): string | undefined {
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(m[1]!)) return `unknown placeholder {${m[1]}}; use ${TEMPLATE_FIELDS.map((f) => `{${f}}`).join(' ')}`;
  }
  if (!template.startsWith('/')) return 'must be an absolute path on the server, starting with /';
  if (!/\{(name|key|stem)\}/.test(template)) return 'must contain {name}, {stem} or {key}, or every file would land under one name';
  return undefined;
}

export function renderTemplate(template: string, values: { relativeKey: string; rule: string; seenAt: Date }): string {
  const name = values.relativeKey.slice(values.relativeKey.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  const d = values.seenAt;
  const two = (n: number): string => String(n).padStart(2, '0');
  const fields: Record<string, string> = {
    yyyy: String(d.getUTCFullYear()),
    MM: two(d.getUTCMonth() + 1),
    dd: two(d.getUTCDate()),
    HH: two(d.getUTCHours()),
    mm: two(d.getUTCMinutes()),
    name,
    stem: dot > 0 ? name.slice(0, dot) : name,
    ext: dot > 0 ? name.slice(dot) : '',
    key: values.relativeKey,
    rule: values.rule,
  };
  return template.replace(/\{([^}]*)\}/g, (_, f: string) => fields[f] ?? '');
}
