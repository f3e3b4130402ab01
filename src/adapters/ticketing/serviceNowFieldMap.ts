import { ConfigError } from '../../domain/errors';

/** A field's template (`"${environment}"`, `"software"`, `"FF ${requestId}"`), or null: do not send the field. */
export type FieldTemplate = string | null;

/**
 * Extra fields for the tickets, from SERVICENOW_FIELD_MAP_FILE. The file is one JSON object:
 * `"field": "template"` pairs apply to both tickets; the keys `request` and `audit` may hold an
 * object of pairs for that ticket only (they win over the shared ones). Templates name request
 * values as `${name}` (FIELD_MAP_VARIABLES). By default FileFerry sends `priority`, `impact` and
 * `urgency` (impact/urgency from the priority by ServiceNow's default priority matrix, since
 * incident computes priority from them); map one to null to leave it out, or to another template.
 * A field whose template comes out empty is not sent.
 *
 *     { "u_environment": "${environment}", "category": "software",
 *       "caller_id": "${requesterName}", "audit": { "category": "audit" } }
 */
export interface FieldMap {
  both: Readonly<Record<string, FieldTemplate>>;
  request: Readonly<Record<string, FieldTemplate>>;
  audit: Readonly<Record<string, FieldTemplate>>;
}

/** The request values a template may name. */
export const FIELD_MAP_VARIABLES = [
  'requestId', 'requesterId', 'requesterName', 'summary', 'assignmentGroup', 'priority', 'impact', 'urgency', 'environment', 'kind',
] as const;
export type FieldMapVariable = (typeof FIELD_MAP_VARIABLES)[number];
export type FieldValues = Record<FieldMapVariable, string>;

/** Fields FileFerry writes itself: the pairing, the lookup after a lost answer and the closing depend on them. */
export const RESERVED_FIELDS: ReadonlySet<string> = new Set([
  'sys_id', 'number', 'short_description', 'description', 'assignment_group', 'correlation_id', 'correlation_display',
  'parent', 'work_notes', 'comments', 'state', 'close_code', 'close_notes',
]);

const DEFAULTS: Record<string, FieldTemplate> = { priority: '${priority}', impact: '${impact}', urgency: '${urgency}' };
const EMPTY: FieldMap = { both: {}, request: {}, audit: {} };

/** ServiceNow's default incident matrix read backwards: priority → [impact, urgency]. */
const MATRIX: Record<string, [string, string]> = { '1': ['1', '1'], '2': ['1', '2'], '3': ['2', '2'], '4': ['2', '3'], '5': ['3', '3'] };

export function impactAndUrgency(priority: string): { impact: string; urgency: string } {
  const [impact, urgency] = MATRIX[priority.trim()] ?? ['', ''];
  return { impact, urgency };
}

/** Parses the field map file's text; `file` names it in errors. Throws ConfigError. */
export function fieldMapFromJson(text: string, file: string): FieldMap {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`SERVICENOW_FIELD_MAP_FILE (${file}) is not JSON: ${(e as Error).message}.`, 'Make it one JSON object of "field": "template" pairs.');
  }
  return parseFieldMap(raw, `SERVICENOW_FIELD_MAP_FILE (${file})`);
}

/** Checks a field map's shape, field names and template variables. Throws ConfigError naming `source`. */
export function parseFieldMap(raw: unknown, source = 'the ServiceNow field map'): FieldMap {
  if (!isObject(raw)) throw new ConfigError(`${source} must be a JSON object.`, 'Write it as { "field": "template", … }, e.g. { "u_environment": "${environment}" }.');
  const map = { both: {} as Record<string, FieldTemplate>, request: {} as Record<string, FieldTemplate>, audit: {} as Record<string, FieldTemplate> };
  for (const [key, value] of Object.entries(raw)) {
    if ((key === 'request' || key === 'audit') && isObject(value)) {
      for (const [field, template] of Object.entries(value)) map[key][field] = checked(field, template, `${source} at ${key}.${field}`);
    } else {
      map.both[key] = checked(key, value, `${source} at ${key}`);
    }
  }
  return map;
}

/** The extra fields of one ticket, templates expanded. */
export function mappedFields(map: FieldMap = EMPTY, kind: 'request' | 'audit', values: FieldValues): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, template] of Object.entries({ ...DEFAULTS, ...map.both, ...map[kind] })) {
    if (template === null) continue;
    const value = template.replace(/\$\{(\w+)\}/g, (_, name: string) => values[name as FieldMapVariable] ?? '');
    if (value !== '') out[field] = value;
  }
  return out;
}

function checked(field: string, template: unknown, where: string): FieldTemplate {
  if (!/^[a-z][a-z0-9_]*$/.test(field)) {
    throw new ConfigError(`${where}: "${field}" is not a ServiceNow field name.`, 'Use the column name (lower case, such as u_environment or cmdb_ci), not its label.');
  }
  if (RESERVED_FIELDS.has(field)) {
    throw new ConfigError(`${where}: FileFerry writes ${field} itself.`, `Remove ${field} from the field map; the reserved fields are ${[...RESERVED_FIELDS].join(', ')}.`);
  }
  if (template === null) return null;
  if (typeof template !== 'string') {
    throw new ConfigError(`${where} must be a string template or null.`, 'Write values as strings ("2", not 2), or null to leave a default field out.');
  }
  for (const [, name] of template.matchAll(/\$\{([^}]*)\}/g)) {
    if (!(FIELD_MAP_VARIABLES as readonly string[]).includes(name!)) {
      throw new ConfigError(`${where} names \${${name}}, which is not a request value.`, `Use one of: ${FIELD_MAP_VARIABLES.map((v) => `\${${v}}`).join(', ')}.`);
    }
  }
  return template;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
