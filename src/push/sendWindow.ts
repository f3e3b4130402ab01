/**
 * Hours in which a rule may send (UTC), such as 20:00–06:00 on weekdays; outside them objects wait
 * in the queue. A window whose `to` is before its `from` runs over midnight, and the day it starts
 * on is the one `days` names.
 */
export const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type DayName = (typeof DAY_NAMES)[number];

export interface SendWindow {
  from: string;
  to: string;
  days?: DayName[];
}

export const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function windowOpen(window: SendWindow | undefined, now: Date): boolean {
  if (!window) return true;
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
  const day = now.getUTCDay();
  const allowed = (d: number): boolean => !window.days || window.days.includes(DAY_NAMES[(d + 7) % 7]!);
  if (from === to) return allowed(day);
  if (from < to) return minute >= from && minute < to && allowed(day);
  return (minute >= from && allowed(day)) || (minute < to && allowed(day - 1));
}

/** The next instant (to the minute, within 8 days) the window is open; `now` when it is open now. */
export function nextOpening(window: SendWindow | undefined, now: Date): Date {
  if (windowOpen(window, now)) return now;
  const t = new Date(now);
  t.setUTCSeconds(0, 0);
  for (let i = 0; i < 8 * 24 * 60; i++) {
    t.setTime(t.getTime() + 60_000);
    if (windowOpen(window, t)) return t;
  }
  return new Date(now.getTime() + 24 * 3600_000);
}
