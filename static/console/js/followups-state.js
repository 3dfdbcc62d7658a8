// The agent's follow-ups, as the console keeps them (part of the Store in
// state.js): every pending one of the agent's list from the hello, moved
// forward by `followup.created` and `followup.updated` events. The server
// sends each event to everyone who sees the lead; a console lists the ones
// assigned to its agent (or to nobody) on leads it sees, as the hello does.
// Whether one is due is the console's to tell, from its `due` time: a timer
// (outstanding.js) redraws the list when the next one falls due.

export class FollowUps {
  constructor() {
    this.items = new Map(); // id -> follow-up (pending ones only)
  }

  /** The hello's (or a reload's) pending follow-ups, replacing all. */
  replace(list) {
    this.items = new Map((list || []).map((f) => [f.id, f]));
  }

  /** One event's follow-up: done or deleted ones leave. */
  apply(followup, change) {
    if (!followup || followup.id === undefined) return;
    if (change === "deleted" || followup.done_at) this.items.delete(followup.id);
    else this.items.set(followup.id, followup);
  }

  /** The pending follow-ups of this agent's list, newest due first.
   * @param {number|null} me  the agent's id
   * @param {(leadId: number) => boolean} visible  whether the agent sees the lead */
  pending(me, visible) {
    return [...this.items.values()]
      .filter((f) => (f.assignee === null || f.assignee === me) && visible(f.lead))
      .sort((a, b) => b.due.localeCompare(a.due) || b.id - a.id);
  }
}

/** Whether a follow-up's time has come. */
export function isDue(followup, now = Date.now()) {
  return Date.parse(followup.due) <= now;
}

// -- times an agent picks, in their own time zone --------------------------

/** `days` days from now, at the same time of day. */
export function inDays(now, days) {
  const when = new Date(now);
  when.setDate(when.getDate() + days);
  return when;
}

/** Tomorrow at `hour`:00. */
export function tomorrowAt(now, hour) {
  const when = inDays(now, 1);
  when.setHours(hour, 0, 0, 0);
  return when;
}

/** The next `weekday` (0 Sunday ... 1 Monday), never today, at `hour`:00. */
export function nextWeekdayAt(now, weekday, hour) {
  const when = new Date(now);
  const ahead = ((weekday - when.getDay() + 7) % 7) || 7;
  when.setDate(when.getDate() + ahead);
  when.setHours(hour, 0, 0, 0);
  return when;
}

/** When a follow-up is due, as a row says it ("Tue 10:00", "in 2 h"...). */
export function dueLabel(iso, now = Date.now()) {
  const when = new Date(iso);
  const minutes = Math.round((when.getTime() - now) / 60000);
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const day = when.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" });
  if (minutes <= 0) return `due ${day} ${time}`;
  if (minutes < 60) return `in ${minutes} min`;
  return `${day} ${time}`;
}
