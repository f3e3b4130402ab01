import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/**
 * A new request ID such as "FF-7K3M9Q2X": short enough to type in "status FF-7K3M9Q2X", random
 * (40 bits) so one user cannot guess another's, without look-alike characters (0/O, 1/I).
 */
export function newRequestId(): string {
  const bytes = randomBytes(8);
  let id = '';
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return `FF-${id}`;
}

export const REQUEST_ID = /^FF-[A-Z2-9]{8}$/;
