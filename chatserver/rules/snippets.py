"""What a search found, shown: the words of a query, and the part of a text
around them with the matches marked.

A snippet is a list of ``[text, matched]`` pairs, so a console builds it from
text nodes (a match in a ``<mark>``) and never parses markup; offsets would
not do, as Python and JavaScript count characters differently.
"""

from __future__ import annotations

import re

MAX_WORDS = 8
WORD = re.compile(r"[^\W_]+")
SNIPPET_LENGTH = 140
ELLIPSIS = "\u2026"


def words(query: str) -> list[str]:
    """The words of a query, lower case: letters and digits only (so nothing
    in it can be read as search syntax)."""
    return WORD.findall((query or "").lower())[:MAX_WORDS]


def matches(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Where the terms occur in ``text``, as (start, end): each whole word a
    term begins (full-text search matches words by their start); a term no
    word begins is marked wherever it occurs (the LIKE fallback matches
    inside words), in order, never overlapping."""
    found: list[tuple[int, int]] = []
    lowered = text.lower()
    for term in terms:
        spans = [
            m.span() for m in WORD.finditer(text) if m.group().lower().startswith(term)
        ]
        if not spans:
            spans = [
                (m.start(), m.start() + len(term))
                for m in re.finditer(re.escape(term), lowered)
            ]
        found.extend(spans)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def parts(text: str, spans: list[tuple[int, int]]) -> list[list]:
    """``text`` cut into ``[piece, matched]`` pairs at the spans."""
    result: list[list] = []
    at = 0
    for start, end in spans:
        if start > at:
            result.append([text[at:start], False])
        result.append([text[start:end], True])
        at = end
    if at < len(text):
        result.append([text[at:], False])
    return result


def snippet(text: str, terms: list[str], length: int = SNIPPET_LENGTH) -> list[list]:
    """About ``length`` characters of ``text`` around its first match, cut at
    word boundaries (an ellipsis where it was cut), as ``parts``; the whole
    text (whitespace folded) when it is short."""
    text = " ".join(text.split())
    spans = matches(text, terms)
    if len(text) <= length:
        return parts(text, spans)
    first = spans[0][0] if spans else 0
    start = max(0, first - length // 3)
    if start:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and first - space < length // 2 else start
    end = min(len(text), start + length)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    window = [
        (max(s, start) - start, min(e, end) - start)
        for s, e in spans
        if s < end and e > start
    ]
    pieces = parts(text[start:end], window)
    if start:
        pieces.insert(0, [ELLIPSIS, False])
    if end < len(text):
        pieces.append([ELLIPSIS, False])
    return pieces
