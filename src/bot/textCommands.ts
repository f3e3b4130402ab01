/** A text command typed in the chat (also the manifest's command list). */
export type TextCommand =
  | { command: 'transfer' }
  | { command: 'status'; requestId?: string }
  | { command: 'history' }
  | { command: 'cancel'; requestId?: string }
  | { command: 'help'; unknown?: string };

/**
 * Parses `transfer`/`new`, `status [id]`, `history`, `cancel <id>` and `help`, case-insensitively,
 * after removing @-mentions and Teams' HTML. Anything else is help (with what was not understood),
 * never silence.
 */
export function parseTextCommand(raw: string | undefined): TextCommand {
  const text = (raw ?? '')
    .replace(/<at>[^<]*<\/at>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .trim();
  const [word = '', arg] = text.split(/\s+/);
  const id = arg?.toUpperCase();
  switch (word.toLowerCase().replace(/^\//, '')) {
    case 'transfer':
    case 'new':
      return { command: 'transfer' };
    case 'status':
      return { command: 'status', requestId: id };
    case 'history':
      return { command: 'history' };
    case 'cancel':
      return { command: 'cancel', requestId: id };
    case 'help':
    case '?':
    case '':
      return { command: 'help' };
    default:
      return { command: 'help', unknown: text.slice(0, 80) };
  }
}
