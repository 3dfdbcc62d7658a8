// Why the agent may not text in a chatbox now, and what they can do about
// it: the server's `text_block` from the conversation's details (a closed
// lead they may reopen, a colleague's they may take over), else the number's
// live consent (not authorized: send an authorization request), else quiet
// hours (the composer offers to schedule the text). The composer shows it.

import { CONSENT } from "./format.js";

/**
 * Block or open the composer.
 * @param {import("./composer.js").Composer} composer
 * @param {object} now
 * @param {object|null} now.details  the conversation's details, once loaded
 * @param {object} now.summary  the conversation's summary (its live consent)
 * @param {object|null} now.agent  the agent at the console
 * @param {() => void} now.requestConsent  sends an authorization request
 * @param {(frame: object) => void} now.command  sends a lead command
 */
export function showTextBlock(composer, { details, summary, agent, requestConsent, command }) {
  if (details && details.text_block) {
    composer.setBlocked(details.text_block, unblockAction(details, agent, command));
    return;
  }
  if (summary.consent && summary.consent !== "authorized") {
    const reason = summary.consent_notice || CONSENT[summary.consent].label;
    const action = summary.consent === "not_authorized" && !(details && details.text_block)
      ? { label: "Send authorization request", run: () => requestConsent() }
      : null;
    composer.setBlocked(reason, action);
    return;
  }
  composer.setBlocked(null);
  const quiet = details && details.quiet_hours;
  if (quiet && quiet.quiet) {
    composer.setSchedule(quiet.reason, quiet.next_allowed_label || "later");
  } else {
    composer.setSchedule(null);
  }
}

/** What the agent can do about a block they may lift: reopen a closed
 * lead, or take over a colleague's. */
function unblockAction(details, agent, command) {
  const lead = details.lead || {};
  const me = agent || {};
  if (!details.may_assign || !me.sms_allowed) return null;
  const run = (type, extra = {}) => () => command({ type, lead: lead.id, ...extra });
  if (lead.status === "closed") return { label: "Reopen lead", run: run("lead.reopen") };
  if (lead.assignee && lead.assignee !== me.id) {
    return { label: "Assign to me", run: run("lead.assign", { agent: me.id }) };
  }
  return null;
}
