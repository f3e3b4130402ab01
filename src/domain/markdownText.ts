/**
 * Text from outside FileFerry (object keys, folder and bucket names, a justification, a server's
 * error reply, a person's name) is shown in Adaptive Card TextBlocks and facts, which render a
 * Markdown subset. Unescaped, an object named `[Sign in again](https://…)` would become a link on
 * the requester's or the approver's card. These escapes make such text show as typed: Teams
 * removes the backslash before the characters that would start emphasis or a link.
 *
 * The escape is exact and reversible (a backslash itself is escaped too), so the card renderer
 * can escape every value once and undo it where text is not Markdown (action data, inputs,
 * button titles, URLs).
 */
const SPECIAL = /[\\*_[\]()`~]/g;
const ESCAPED = /\\([\\*_[\]()`~])/g;

/** `text` with every Markdown-significant character backslash-escaped. */
export function escapeMarkdown(text: string): string {
  return text.replace(SPECIAL, (c) => `\\${c}`);
}

/** The inverse of escapeMarkdown: what the reader sees. */
export function unescapeMarkdown(text: string): string {
  return text.replace(ESCAPED, '$1');
}
