// Runs the console's follow-up time helpers (static/console/js/followups-state.js)
// outside the browser: reads {now, picks} as JSON on stdin and prints, for each
// pick, the moment it names as ISO 8601. The time zone is the process's (TZ).
// Used by test_console_followup_times.py.

import { readFileSync } from "node:fs";

import { inDays, isDue, nextWeekdayAt, tomorrowAt } from "../../static/console/js/followups-state.js";

const input = JSON.parse(readFileSync(0, "utf-8"));
const now = new Date(input.now);
const picks = {
  in_2_days: inDays(now, 2),
  tomorrow_9: tomorrowAt(now, 9),
  next_monday_10: nextWeekdayAt(now, 1, 10),
};
const due = (input.due || []).map((f) => isDue(f, now.getTime()));
process.stdout.write(JSON.stringify({
  picks: Object.fromEntries(Object.entries(picks).map(([k, v]) => [k, v.toISOString()])),
  due,
}));
