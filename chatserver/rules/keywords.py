"""Reading consent out of what a lead texts: keywords and possible opt-outs.

A keyword counts only when it is the whole message (CTIA and the carriers'
rule): any case, with spaces, punctuation or emoji around it ignored, so
"Stop.", " stop " and "STOP!!" opt out while "I can't stop smiling" does not.
A longer message that reads like an opt-out ("please stop texting me") is not
a keyword, but is flagged for an agent to confirm, since a lead may revoke
consent by any reasonable means.

Pure functions: ``chatserver.actions.consent`` acts on what they find.
"""

from __future__ import annotations

import enum
import re
import unicodedata


class Keyword(enum.StrEnum):
    """What a keyword asks for."""

    OPT_OUT = "stop"
    OPT_IN = "start"
    HELP = "help"


OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})

KEYWORDS = {
    **{word: Keyword.OPT_OUT for word in OPT_OUT_WORDS},
    **{word: Keyword.OPT_IN for word in OPT_IN_WORDS},
    **{word: Keyword.HELP for word in HELP_WORDS},
}

# What a carrier reports having acted on (Twilio's OptOutType) -> our keyword.
CARRIER_KEYWORDS = {
    "STOP": Keyword.OPT_OUT,
    "START": Keyword.OPT_IN,
    "HELP": Keyword.HELP,
}

_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
# "OPT OUT", "opt-out", "Stop all": one keyword written in parts.
_JOINERS = re.compile(r"[\s\-_.]+")


def whole_word(body: str) -> str:
    """A whole message read as one keyword would be: NFKC, the spaces,
    punctuation and emoji around it dropped, the parts joined ("opt-out" ->
    "OPTOUT"), upper case; '' for a message far longer than any keyword."""
    text = unicodedata.normalize("NFKC", body or "")
    if len(text) > 40:  # no keyword is anywhere near this long
        return ""
    return _JOINERS.sub("", _EDGES.sub("", text)).upper()


def keyword_word(body: str) -> str:
    """The keyword a whole message is (e.g. ``"STOP"``), or '' when it is none."""
    word = whole_word(body)
    return word if word in KEYWORDS else ""


def keyword_of(body: str) -> Keyword | None:
    """What a whole-message keyword asks for, or None for an ordinary text."""
    word = keyword_word(body)
    return KEYWORDS[word] if word else None


def carrier_keyword(value: str) -> Keyword | None:
    """The keyword a carrier says it acted on (``"STOP"``, ``"START"``, ``"HELP"``)."""
    return CARRIER_KEYWORDS.get((value or "").strip().upper())


# Phrases that read like a request to stop texting. Deliberately generous: a
# false alarm costs an agent one glance, a missed opt-out costs the team.
_POSSIBLE_OPTOUT = [
    re.compile(pattern)
    for pattern in (
        r"\b(stop|quit|cease)\s+(texting|txting|messaging|contacting|calling|"
        r"sending|bothering|spamming|harassing|emailing)\b",
        r"\b(stop|quit|cease)\b.{0,25}\b(texts?|txts?|messages?|msgs?|sms)\b",
        r"\bun-?subscribe\b",
        r"\bopt(\s|-)?(me\s+)?out\b",
        r"\bremove\s+(me|my\s+(number|name|phone|info))\b",
        r"\btake\s+me\s+off\b",
        r"\b(don'?t|do\s+not|dont|never)\s+(ever\s+)?(text|txt|message|msg|contact|"
        r"call|sms)\b",
        r"\bno\s+more\s+(texts?|txts?|messages?|msgs?|sms|contact)\b",
        r"\bleave\s+me\s+alone\b",
        r"\bwrong\s+(number|person)\b",
        # A short "stop" with a word or two around it: "stop please", "STOP STOP".
        r"^\W*((please|pls|plz)\W+)?stop(\W+(it|now|please|pls|plz|stop|already|"
        r"thanks?|thank\s+you|asap))*\W*$",
    )
]


def reads_like_optout(body: str) -> bool:
    """Whether a message that is not a keyword still reads like an opt-out."""
    if keyword_of(body) is not None:
        return False
    text = unicodedata.normalize("NFKC", body or "").lower().replace("\u2019", "'")
    text = " ".join(text.split())
    return any(pattern.search(text) for pattern in _POSSIBLE_OPTOUT)
