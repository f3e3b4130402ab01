/** The chain head as a closing note quotes it. */
export interface QuotedHead {
  chain: string;
  seq: number;
  hash: string;
}

const LINE = /Audit chain head: seq (\d+), SHA-256 ([0-9a-f]{64}) \(chain ([^)\s]+)\)\./;

/**
 * The audit ticket's closing note with the audit chain head appended, the line `audit verify
 * --against-tickets` reads back (`quotedHead`). Writer and reader live together so they cannot
 * drift apart. No head (nothing appended yet in this process): the note as it is.
 */
export function sealedCloseNote(note: string, head: QuotedHead | undefined): string {
  return head ? `${note}\nAudit chain head: seq ${head.seq}, SHA-256 ${head.hash} (chain ${head.chain}).` : note;
}

/** The head a closing note quotes, or undefined when it quotes none. */
export function quotedHead(note: string): QuotedHead | undefined {
  const m = LINE.exec(note);
  return m ? { seq: Number(m[1]), hash: m[2]!, chain: m[3]! } : undefined;
}
