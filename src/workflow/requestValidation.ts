import { CLOUDS, ENVIRONMENTS, PRIORITIES, REGIONS, type Cloud } from './regions';
import type { RequestFormValues } from '../domain/requestRecord';

export type FieldErrors<K extends string> = Partial<Record<K, string>>;

export type Validated<V, K extends string> = { ok: true; values: V } | { ok: false; values: V; errors: FieldErrors<K> };

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Reads a card input as trimmed text; anything that is not a string (forged JSON) reads as ''. */
export function text(inputs: Record<string, unknown>, name: string, max = 2000): string {
  const v = inputs[name];
  return typeof v === 'string' ? v.trim().slice(0, max) : typeof v === 'number' ? String(v) : '';
}

/**
 * Validates the request form on the server. Returns every field's error at once, each saying what
 * is wrong and what a good value looks like, plus the values as typed (trimmed) so the card comes
 * back with them kept.
 */
export function validateRequestForm(
  inputs: Record<string, unknown>,
  assignmentGroups: readonly string[],
): Validated<RequestFormValues, keyof RequestFormValues> {
  const values: RequestFormValues = {
    environment: text(inputs, 'environment', 20),
    cloud: text(inputs, 'cloud', 20),
    region: text(inputs, 'region', 40),
    container: text(inputs, 'container', 300),
    key: text(inputs, 'key', 1100),
    assignmentGroup: text(inputs, 'assignmentGroup', 100),
    priority: text(inputs, 'priority', 10),
    justification: text(inputs, 'justification', 1100),
  };
  const errors: FieldErrors<keyof RequestFormValues> = {};
  if (!(ENVIRONMENTS as readonly string[]).includes(values.environment)) {
    errors.environment = `Choose the environment: ${ENVIRONMENTS.join(', ')}.`;
  }
  const cloud = (CLOUDS as readonly string[]).includes(values.cloud) ? (values.cloud as Cloud) : undefined;
  if (!cloud) errors.cloud = 'Choose the cloud: AWS or Azure.';
  if (!values.region) errors.region = cloud === 'Azure' ? 'Enter the Azure location, such as westeurope.' : 'Enter the region, such as eu-west-1.';
  else if (cloud && !REGIONS[cloud].includes(values.region)) {
    errors.region = `"${values.region}" is not one of the ${cloud} ${cloud === 'Azure' ? 'locations' : 'regions'}; choose one such as ${REGIONS[cloud][0]}.`;
  }
  if (values.container) {
    const problem = cloud === 'Azure' ? containerProblem(values.container) : bucketProblem(values.container);
    if (problem) errors.container = problem;
  }
  if (values.key) {
    const problem = keyProblem(values.key);
    if (problem) errors.key = problem;
  }
  if (!assignmentGroups.includes(values.assignmentGroup)) {
    errors.assignmentGroup = `Choose an assignment group: ${assignmentGroups.join(', ')}.`;
  }
  if (!PRIORITIES.some((p) => p.value === values.priority)) errors.priority = 'Choose a priority from 1 (critical) to 4 (low).';
  if (values.justification.length < 10) errors.justification = 'Say in at least 10 characters why the file is needed.';
  else if (values.justification.length > 1000) errors.justification = 'Keep the justification under 1000 characters.';
  else if (CONTROL.test(values.justification.replace(/[\r\n\t]/g, ''))) errors.justification = 'Remove control characters from the justification.';
  return Object.keys(errors).length ? { ok: false, values, errors } : { ok: true, values };
}

/** S3 bucket naming rules (3–63 chars, lower-case letters, digits, dots, hyphens). */
function bucketProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63 || !/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name) || name.includes('..')) {
    return 'A bucket name is 3 to 63 lower-case letters, digits, dots or hyphens, starting and ending with a letter or digit.';
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'A bucket name cannot look like an IP address.';
  return undefined;
}

/** Azure container naming rules (3–63 chars, lower-case letters, digits, single hyphens). */
function containerProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63 || !/^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/.test(name)) {
    return 'A container name is 3 to 63 lower-case letters, digits or single hyphens, starting and ending with a letter or digit.';
  }
  return undefined;
}

/** A key or prefix: no control characters, no "." or ".." segments, not absolute, ≤ 1024 chars. */
export function keyProblem(key: string): string | undefined {
  if (key.length > 1024) return 'A file name or prefix is at most 1024 characters.';
  if (CONTROL.test(key)) return 'Remove line breaks and control characters from the file name.';
  if (key.startsWith('/')) return 'Give the file name or prefix without a leading "/", such as reports/2024/.';
  if (key.split('/').some((s) => s === '..' || s === '.')) return 'A file name cannot contain "." or ".." folders.';
  return undefined;
}
