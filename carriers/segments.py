"""SMS encoding, length and segment count, as carriers bill a message.

The console shows these numbers while an agent types, so this module has a twin,
``static/console/js/segments.js``, that must give the identical answer for every
text; ``tests/carriers/test_segments.py`` runs both against one table of cases.
Keep the two files in step: same tables, same rules, same messages.

Rules, in short:

* A text is GSM-7 when every code point is in the GSM 03.38 basic table or its
  extension table (an extension character costs two septets: ESC + char);
  otherwise the whole message is UCS-2, counted in UTF-16 code units.
* One segment holds 160 septets or 70 code units. A longer message is split into
  parts of at most 153 septets or 67 code units (the rest of each part carries
  the concatenation header).
* Parts are filled greedily with whole user-perceived characters (grapheme
  clusters): a character that does not fit the room left in a part starts the
  next part, and the room it leaves behind is lost. Only a cluster larger than a
  whole part is cut, between code points, as a last resort.
* Nothing is normalised: CR LF costs two units, exactly as it will be sent.

Grapheme clusters follow a deliberately simplified form of Unicode's extended
grapheme cluster rules (see ``graphemes``), written out by hand in both
languages so that Python and the browser agree without any dependency.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

GSM_7 = "GSM-7"
UCS_2 = "UCS-2"

# GSM 03.38 basic character set in table order, 0x00 to 0x7F, without 0x1B: that
# position is the escape to the extension table, not a character.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00-0x0F
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"  # 0x10-0x1F, 0x1B (ESC) left out
    " !\"#¤%&'()*+,-./"  # 0x20-0x2F
    "0123456789:;<=>?"  # 0x30-0x3F
    "¡ABCDEFGHIJKLMNO"  # 0x40-0x4F
    "PQRSTUVWXYZÄÖÑÜ§"  # 0x50-0x5F
    "¿abcdefghijklmno"  # 0x60-0x6F
    "pqrstuvwxyzäöñüà"  # 0x70-0x7F
)

# GSM 03.38 extension table: each is sent as ESC + char, so costs two septets.
GSM_EXTENSION = "\f^{}\\[~]|€"

_GSM_BASIC_SET = frozenset(GSM_BASIC)
_GSM_EXTENSION_SET = frozenset(GSM_EXTENSION)

# Units per segment: (message of one segment, each part of a longer message).
CAPACITY = {GSM_7: (160, 153), UCS_2: (70, 67)}

# Look-alikes that carriers' "smart encoding" swaps for GSM characters, so that
# one curly quote does not turn a 1-segment message into a 3-segment one.
# Mirrored as SMART_REPLACEMENTS in segments.js.
SMART_REPLACEMENTS: dict[str, str] = {
    "\u2018": "'",  # ‘ left single quotation mark
    "\u2019": "'",  # ’ right single quotation mark
    "\u201a": "'",  # ‚ single low-9 quotation mark
    "\u201b": "'",  # ‛ single high-reversed-9 quotation mark
    "\u2032": "'",  # ′ prime
    "\u2039": "'",  # ‹ single left-pointing angle quotation mark
    "\u203a": "'",  # › single right-pointing angle quotation mark
    "\u201c": '"',  # “ left double quotation mark
    "\u201d": '"',  # ” right double quotation mark
    "\u201e": '"',  # „ double low-9 quotation mark
    "\u201f": '"',  # ‟ double high-reversed-9 quotation mark
    "\u2033": '"',  # ″ double prime
    "\u00ab": '"',  # « left-pointing double angle quotation mark
    "\u00bb": '"',  # » right-pointing double angle quotation mark
    "\u2012": "-",  # ‒ figure dash
    "\u2013": "-",  # – en dash
    "\u2014": "-",  # — em dash
    "\u2015": "-",  # ― horizontal bar
    "\u2212": "-",  # − minus sign
    "\u2022": "-",  # • bullet
    "\u2026": "...",  # … horizontal ellipsis
    "\u02c6": "^",  # ˆ modifier letter circumflex accent
    "\u02dc": "~",  # ˜ small tilde
    "\u00a0": " ",  # no-break space
    "\u2000": " ",  # en quad
    "\u2001": " ",  # em quad
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u2004": " ",  # three-per-em space
    "\u2005": " ",  # four-per-em space
    "\u2006": " ",  # six-per-em space
    "\u2007": " ",  # figure space
    "\u2008": " ",  # punctuation space
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u202f": " ",  # narrow no-break space
    "\u205f": " ",  # medium mathematical space
    "\u3000": " ",  # ideographic space
    "\u200b": "",  # zero width space
    "\ufeff": "",  # zero width no-break space (byte order mark)
}

# Per-organisation plans. "count" names the SegmentInfo field compared with
# max_characters: septets for standard (one GSM-7 segment), grapheme clusters for
# advanced.
LIMITS: dict[str, dict[str, Any]] = {
    "standard": {"max_characters": 160, "count": "units", "gsm7_only": True},
    "advanced": {"max_characters": 640, "count": "characters", "gsm7_only": False},
}

# Code points that attach to the character before them, besides combining marks
# (general category M*, tested through unicodedata): variation selectors, emoji
# skin-tone modifiers and tag characters (subdivision flags such as England).
_EXTENDER_RANGES = (
    (0xFE00, 0xFE0F),
    (0x1F3FB, 0x1F3FF),
    (0xE0020, 0xE007F),
    (0xE0100, 0xE01EF),
)
_ZWJ = "\u200d"
_REGIONAL_INDICATORS = ((0x1F1E6, 0x1F1FF),)
# C0 and C1 controls (CR, LF, form feed...) never join a cluster, except CR LF.
_CONTROL_RANGES = ((0x00, 0x1F), (0x7F, 0x9F))
# Characters an error message names by code point because they are invisible.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


@dataclass(frozen=True)
class SegmentInfo:
    """What a text costs as an SMS; ``to_dict`` matches segments.js's object."""

    encoding: str
    segments: int
    characters: int
    units: int
    per_segment: int
    units_used_in_segment: int
    units_left_in_segment: int
    ucs2_characters: tuple[str, ...]
    parts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready data, with the keys of the JS object."""
        return {
            "encoding": self.encoding,
            "segments": self.segments,
            "characters": self.characters,
            "units": self.units,
            "per_segment": self.per_segment,
            "units_used_in_segment": self.units_used_in_segment,
            "units_left_in_segment": self.units_left_in_segment,
            "ucs2_characters": list(self.ucs2_characters),
            "parts": list(self.parts),
        }


def _in_ranges(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in ranges)


def _is_extender(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M") or _in_ranges(ch, _EXTENDER_RANGES)


def graphemes(text: str) -> list[str]:
    """Split ``text`` into user-perceived characters (simplified grapheme clusters).

    A cluster is CR LF; or any other control character alone; or a base code
    point (a pair of regional indicators, i.e. a flag, counting as one base)
    followed by any number of combining marks, variation selectors, emoji
    modifiers, tag characters, and ZWJ each with the code point after it (unless
    that is a control). Hangul jamo sequences and prepended marks are not joined.
    """
    clusters = []
    i, n = 0, len(text)
    while i < n:
        start = i
        i += 1
        if _in_ranges(text[start], _CONTROL_RANGES):
            if text[start] == "\r" and i < n and text[i] == "\n":
                i += 1
            clusters.append(text[start:i])
            continue
        if (
            i < n
            and _in_ranges(text[start], _REGIONAL_INDICATORS)
            and _in_ranges(text[i], _REGIONAL_INDICATORS)
        ):
            i += 1
        while i < n:
            if text[i] == _ZWJ:
                i += 1
                if i < n and not _in_ranges(text[i], _CONTROL_RANGES):
                    i += 1
            elif _is_extender(text[i]):
                i += 1
            else:
                break
        clusters.append(text[start:i])
    return clusters


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` can be sent in GSM-7."""
    return all(ch in _GSM_BASIC_SET or ch in _GSM_EXTENSION_SET for ch in text)


def _septets(text: str) -> int:
    return sum(2 if ch in _GSM_EXTENSION_SET else 1 for ch in text)


def _utf16_units(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def _split(
    clusters: list[str], cost: Callable[[str], int], capacity: int
) -> list[tuple[str, int]]:
    """Pack clusters greedily into parts of at most ``capacity`` units.

    Returns (text, units) per part. A cluster that does not fit the room left
    starts a new part; one larger than a whole part is cut between code points
    (each of which costs at most 2 units, so always fits an empty part).
    """
    parts: list[list[Any]] = []
    for cluster in clusters:
        units = cost(cluster)
        pieces = [cluster] if units <= capacity else list(cluster)
        for piece in pieces:
            units = cost(piece)
            if not parts or parts[-1][1] + units > capacity:
                parts.append(["", 0])
            parts[-1][0] += piece
            parts[-1][1] += units
    return [(text, units) for text, units in parts]


def segment(text: str) -> SegmentInfo:
    """Encoding, length and segments of ``text`` as the carrier will bill it."""
    clusters = graphemes(text)
    ucs2_characters = tuple(
        dict.fromkeys(cluster for cluster in clusters if not is_gsm7(cluster))
    )
    encoding = UCS_2 if ucs2_characters else GSM_7
    cost = _utf16_units if ucs2_characters else _septets
    units = cost(text)
    single, multi = CAPACITY[encoding]
    if units <= single:
        per_segment = single
        parts = [(text, units)] if text else []
    else:
        per_segment = multi
        parts = _split(clusters, cost, multi)
    used = parts[-1][1] if parts else 0
    return SegmentInfo(
        encoding=encoding,
        segments=len(parts),
        characters=len(clusters),
        units=units,
        per_segment=per_segment,
        units_used_in_segment=used,
        units_left_in_segment=per_segment - used,
        ucs2_characters=ucs2_characters,
        parts=tuple(part for part, _ in parts),
    )


def smart_replace(text: str) -> str:
    """``text`` with look-alikes (curly quotes, dashes...) swapped for GSM ones."""
    return "".join(SMART_REPLACEMENTS.get(ch, ch) for ch in text)


def replacement_for(char: str) -> str | None:
    """The GSM text that can stand in for ``char``, or None if there is none.

    An empty string means the character can simply be removed (zero-width).
    """
    return SMART_REPLACEMENTS.get(char)


def _display(char: str) -> str:
    """``char`` as an error message shows it: invisible ones as U+XXXX."""
    if len(char) == 1 and unicodedata.category(char) in _INVISIBLE_CATEGORIES:
        return f"U+{ord(char):04X}"
    return char


def _join_words(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def check_limit(text: str, limit: str) -> str | None:
    """None if ``text`` may be sent on plan ``limit``, else why not, for an agent.

    ``limit`` is a key of LIMITS; an unknown one raises ValueError. A character
    the plan does not allow is reported before the length.
    """
    if limit not in LIMITS:
        raise ValueError(f"unknown message limit: {limit!r}")
    rule = LIMITS[limit]
    info = segment(text)
    if rule["gsm7_only"] and info.ucs2_characters:
        char = info.ucs2_characters[0]
        message = f"This character is not allowed on your plan: {_display(char)}"
        replacement = replacement_for(char)
        if replacement == "":
            return message + " (remove it)"
        if replacement == " ":
            return message + " (replace it with a space)"
        if replacement is not None:
            return message + f" (replace it with {replacement})"
        return message
    count = getattr(info, rule["count"])
    if count <= rule["max_characters"]:
        return None
    message = f"Too long: {count} of {rule['max_characters']} characters allowed"
    # Agents count characters, the standard plan counts septets: say why the
    # numbers differ when extension characters are in the text.
    doubled = list(dict.fromkeys(ch for ch in text if ch in _GSM_EXTENSION_SET))
    if rule["count"] == "units" and doubled:
        verb = "counts" if len(doubled) == 1 else "count"
        names = _join_words([_display(ch) for ch in doubled])
        return message + f" ({names} {verb} as 2)."
    return message + "."
