// SMS encoding, length and segment count, as carriers bill a message.
//
// Twin of carriers/segments.py: both must give the identical answer for every
// text (tests/carriers/test_segments.py runs both against one table of cases).
// Keep the two files in step: same tables, same rules, same messages.
//
// Rules, in short:
// - A text is GSM-7 when every code point is in the GSM 03.38 basic table or
//   its extension table (an extension character costs two septets: ESC + char);
//   otherwise the whole message is UCS-2, counted in UTF-16 code units.
// - One segment holds 160 septets or 70 code units. A longer message is split
//   into parts of at most 153 septets or 67 code units.
// - Parts are filled greedily with whole user-perceived characters (grapheme
//   clusters): a character that does not fit the room left in a part starts
//   the next part. Only a cluster larger than a whole part is cut, between
//   code points, as a last resort.
// - Nothing is normalised: CR LF costs two units, exactly as it will be sent.
//
// Grapheme clusters are found by the same simplified rules as the Python side,
// written out by hand: Intl.Segmenter would follow a different Unicode version
// and rule set than Python, and the two must agree.
//
// Plain ES module, no DOM access: runs in the browser and in Node.

export const GSM_7 = "GSM-7";
export const UCS_2 = "UCS-2";

// GSM 03.38 basic character set in table order, 0x00 to 0x7F, without 0x1B:
// that position is the escape to the extension table, not a character.
export const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅå" + // 0x00-0x0F
  "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" + // 0x10-0x1F, 0x1B (ESC) left out
  " !\"#¤%&'()*+,-./" + // 0x20-0x2F
  "0123456789:;<=>?" + // 0x30-0x3F
  "¡ABCDEFGHIJKLMNO" + // 0x40-0x4F
  "PQRSTUVWXYZÄÖÑÜ§" + // 0x50-0x5F
  "¿abcdefghijklmno" + // 0x60-0x6F
  "pqrstuvwxyzäöñüà"; // 0x70-0x7F

// GSM 03.38 extension table: each is sent as ESC + char, so costs two septets.
export const GSM_EXTENSION = "\f^{}\\[~]|€";

const GSM_BASIC_SET = new Set(GSM_BASIC);
const GSM_EXTENSION_SET = new Set(GSM_EXTENSION);

// Units per segment: [message of one segment, each part of a longer message].
export const CAPACITY = Object.freeze({
  [GSM_7]: Object.freeze([160, 153]),
  [UCS_2]: Object.freeze([70, 67]),
});

// Look-alikes that carriers' "smart encoding" swaps for GSM characters, so that
// one curly quote does not turn a 1-segment message into a 3-segment one.
// Mirrored as SMART_REPLACEMENTS in segments.py.
export const SMART_REPLACEMENTS = Object.freeze({
  "\u2018": "'", // ‘ left single quotation mark
  "\u2019": "'", // ’ right single quotation mark
  "\u201a": "'", // ‚ single low-9 quotation mark
  "\u201b": "'", // ‛ single high-reversed-9 quotation mark
  "\u2032": "'", // ′ prime
  "\u2039": "'", // ‹ single left-pointing angle quotation mark
  "\u203a": "'", // › single right-pointing angle quotation mark
  "\u201c": '"', // “ left double quotation mark
  "\u201d": '"', // ” right double quotation mark
  "\u201e": '"', // „ double low-9 quotation mark
  "\u201f": '"', // ‟ double high-reversed-9 quotation mark
  "\u2033": '"', // ″ double prime
  "\u00ab": '"', // « left-pointing double angle quotation mark
  "\u00bb": '"', // » right-pointing double angle quotation mark
  "\u2012": "-", // ‒ figure dash
  "\u2013": "-", // – en dash
  "\u2014": "-", // — em dash
  "\u2015": "-", // ― horizontal bar
  "\u2212": "-", // − minus sign
  "\u2022": "-", // • bullet
  "\u2026": "...", // … horizontal ellipsis
  "\u02c6": "^", // ˆ modifier letter circumflex accent
  "\u02dc": "~", // ˜ small tilde
  "\u00a0": " ", // no-break space
  "\u2000": " ", // en quad
  "\u2001": " ", // em quad
  "\u2002": " ", // en space
  "\u2003": " ", // em space
  "\u2004": " ", // three-per-em space
  "\u2005": " ", // four-per-em space
  "\u2006": " ", // six-per-em space
  "\u2007": " ", // figure space
  "\u2008": " ", // punctuation space
  "\u2009": " ", // thin space
  "\u200a": " ", // hair space
  "\u202f": " ", // narrow no-break space
  "\u205f": " ", // medium mathematical space
  "\u3000": " ", // ideographic space
  "\u200b": "", // zero width space
  "\ufeff": "", // zero width no-break space (byte order mark)
});

// Per-organisation plans. "count" names the segment() field compared with
// max_characters: septets for standard (one GSM-7 segment), grapheme clusters
// for advanced.
export const LIMITS = Object.freeze({
  standard: Object.freeze({ max_characters: 160, count: "units", gsm7_only: true }),
  advanced: Object.freeze({
    max_characters: 640,
    count: "characters",
    gsm7_only: false,
  }),
});

// Code points that attach to the character before them, besides combining
// marks (general category M*, tested with \p{M}): variation selectors, emoji
// skin-tone modifiers and tag characters (subdivision flags such as England).
const EXTENDER_RANGES = [
  [0xfe00, 0xfe0f],
  [0x1f3fb, 0x1f3ff],
  [0xe0020, 0xe007f],
  [0xe0100, 0xe01ef],
];
const ZWJ = "\u200d";
const REGIONAL_INDICATORS = [[0x1f1e6, 0x1f1ff]];
// C0 and C1 controls (CR, LF, form feed...) never join a cluster, except CR LF.
const CONTROL_RANGES = [
  [0x00, 0x1f],
  [0x7f, 0x9f],
];
const MARK = /^\p{M}$/u;
// Characters an error message names by code point because they are invisible.
const INVISIBLE = /^[\p{Zs}\p{Zl}\p{Zp}\p{Cc}\p{Cf}]$/u;

function inRanges(ch, ranges) {
  const code = ch.codePointAt(0);
  return ranges.some(([low, high]) => low <= code && code <= high);
}

function isExtender(ch) {
  return MARK.test(ch) || inRanges(ch, EXTENDER_RANGES);
}

/**
 * Split `text` into user-perceived characters (simplified grapheme clusters).
 *
 * A cluster is CR LF; or any other control character alone; or a base code
 * point (a pair of regional indicators, i.e. a flag, counting as one base)
 * followed by any number of combining marks, variation selectors, emoji
 * modifiers, tag characters, and ZWJ each with the code point after it
 * (unless that is a control). Hangul jamo sequences and prepended marks are
 * not joined.
 */
export function graphemes(text) {
  const points = Array.from(text); // code points, not UTF-16 units
  const clusters = [];
  const n = points.length;
  let i = 0;
  while (i < n) {
    const start = i;
    i += 1;
    if (inRanges(points[start], CONTROL_RANGES)) {
      if (points[start] === "\r" && i < n && points[i] === "\n") i += 1;
      clusters.push(points.slice(start, i).join(""));
      continue;
    }
    if (
      i < n &&
      inRanges(points[start], REGIONAL_INDICATORS) &&
      inRanges(points[i], REGIONAL_INDICATORS)
    ) {
      i += 1;
    }
    while (i < n) {
      if (points[i] === ZWJ) {
        i += 1;
        if (i < n && !inRanges(points[i], CONTROL_RANGES)) i += 1;
      } else if (isExtender(points[i])) {
        i += 1;
      } else {
        break;
      }
    }
    clusters.push(points.slice(start, i).join(""));
  }
  return clusters;
}

/** True when every character of `text` can be sent in GSM-7. */
export function is_gsm7(text) {
  for (const ch of text) {
    if (!GSM_BASIC_SET.has(ch) && !GSM_EXTENSION_SET.has(ch)) return false;
  }
  return true;
}

function septets(text) {
  let total = 0;
  for (const ch of text) total += GSM_EXTENSION_SET.has(ch) ? 2 : 1;
  return total;
}

function utf16Units(text) {
  return text.length; // JS strings are UTF-16 already
}

/**
 * Pack clusters greedily into parts of at most `capacity` units.
 *
 * Returns [text, units] per part. A cluster that does not fit the room left
 * starts a new part; one larger than a whole part is cut between code points
 * (each of which costs at most 2 units, so always fits an empty part).
 */
function split(clusters, cost, capacity) {
  const parts = [];
  for (const cluster of clusters) {
    const pieces = cost(cluster) <= capacity ? [cluster] : Array.from(cluster);
    for (const piece of pieces) {
      const units = cost(piece);
      if (parts.length === 0 || parts[parts.length - 1][1] + units > capacity) {
        parts.push(["", 0]);
      }
      parts[parts.length - 1][0] += piece;
      parts[parts.length - 1][1] += units;
    }
  }
  return parts;
}

/** Encoding, length and segments of `text` as the carrier will bill it. */
export function segment(text) {
  const clusters = graphemes(text);
  const ucs2Characters = [...new Set(clusters.filter((c) => !is_gsm7(c)))];
  const encoding = ucs2Characters.length ? UCS_2 : GSM_7;
  const cost = ucs2Characters.length ? utf16Units : septets;
  const units = cost(text);
  const [single, multi] = CAPACITY[encoding];
  let perSegment;
  let parts;
  if (units <= single) {
    perSegment = single;
    parts = text ? [[text, units]] : [];
  } else {
    perSegment = multi;
    parts = split(clusters, cost, multi);
  }
  const used = parts.length ? parts[parts.length - 1][1] : 0;
  return {
    encoding,
    segments: parts.length,
    characters: clusters.length,
    units,
    per_segment: perSegment,
    units_used_in_segment: used,
    units_left_in_segment: perSegment - used,
    ucs2_characters: ucs2Characters,
    parts: parts.map(([part]) => part),
  };
}

/** `text` with look-alikes (curly quotes, dashes...) swapped for GSM ones. */
export function smart_replace(text) {
  let result = "";
  for (const ch of text) result += replacement_for(ch) ?? ch;
  return result;
}

/**
 * The GSM text that can stand in for `char`, or null if there is none.
 *
 * An empty string means the character can simply be removed (zero-width).
 */
export function replacement_for(char) {
  return Object.hasOwn(SMART_REPLACEMENTS, char) ? SMART_REPLACEMENTS[char] : null;
}

// `char` as an error message shows it: invisible ones as U+XXXX.
function display(char) {
  if (Array.from(char).length === 1 && INVISIBLE.test(char)) {
    return "U+" + char.codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
  }
  return char;
}

function joinWords(words) {
  if (words.length === 1) return words[0];
  return words.slice(0, -1).join(", ") + " and " + words[words.length - 1];
}

/**
 * null if `text` may be sent on plan `limit`, else why not, for an agent.
 *
 * `limit` is a key of LIMITS; an unknown one throws. A character the plan does
 * not allow is reported before the length.
 */
export function check_limit(text, limit) {
  if (!Object.hasOwn(LIMITS, limit)) {
    throw new Error(`unknown message limit: ${JSON.stringify(limit)}`);
  }
  const rule = LIMITS[limit];
  const info = segment(text);
  if (rule.gsm7_only && info.ucs2_characters.length) {
    const char = info.ucs2_characters[0];
    const message = `This character is not allowed on your plan: ${display(char)}`;
    const replacement = replacement_for(char);
    if (replacement === "") return message + " (remove it)";
    if (replacement === " ") return message + " (replace it with a space)";
    if (replacement !== null) return message + ` (replace it with ${replacement})`;
    return message;
  }
  const count = info[rule.count];
  if (count <= rule.max_characters) return null;
  const message = `Too long: ${count} of ${rule.max_characters} characters allowed`;
  // Agents count characters, the standard plan counts septets: say why the
  // numbers differ when extension characters are in the text.
  const doubled = [
    ...new Set(Array.from(text).filter((ch) => GSM_EXTENSION_SET.has(ch))),
  ];
  if (rule.count === "units" && doubled.length) {
    const verb = doubled.length === 1 ? "counts" : "count";
    return message + ` (${joinWords(doubled.map(display))} ${verb} as 2).`;
  }
  return message + ".";
}
