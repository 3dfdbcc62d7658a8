"""What the webhook fuzz tests share: hostile request bodies (Hypothesis
strategies), signing them as each carrier would, and counting every row."""

from __future__ import annotations

import json
from urllib.parse import quote_from_bytes

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import RequestFactory
from django.test.client import encode_multipart
from hypothesis import strategies as st

from carriers import phone_network
from tests.twilio_mock import sign_like_twilio

BOUNDARY = "fuzzBoundary7MA4YWxkTrZu0gW"

# Values a carrier never sends, or sends only to break things: digits Python
# reads as digits but int() does not ("²"), other scripts' digits, NUL,
# escapes, a lone percent, lookalike keywords, numbers without a country.
ODD_VALUES = [
    b"",
    b" ",
    b"\x00",
    b"%",
    b"%zz",
    b"\xff\xfe\xfd",
    b"\xb2",
    b"\xc3\x28",
    "²".encode(),
    "٣".encode(),
    b"-1",
    b"99999999999999999999999",
    b"9" * 5000,  # more digits than int() takes
    b"STOP",
    "ＳＴＯＰ".encode(),
    b"+1",
    b"4155550123",
    b"+14155550123",
    b"<script>alert(1)</script>",
    b"'; DROP TABLE chatserver_message; --",
    "\u202e\u200b".encode(),
    "😀".encode() * 3,
]

CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=latin-1",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    f"multipart/form-data; boundary={BOUNDARY}",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "application/json",
    "text/plain",
    "text/xml",
    "application/octet-stream",
    "",
]


def oversized() -> st.SearchStrategy[bytes]:
    """A value far larger than any field a carrier sends (up to 60 KB)."""
    return st.builds(
        lambda unit, n: unit * n,
        st.sampled_from([b"A", "é".encode(), "😀".encode(), b"%00"]),
        st.integers(min_value=300, max_value=20_000),
    )


def field_values() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.sampled_from(ODD_VALUES),
        st.binary(max_size=40),
        st.text(max_size=40).map(str.encode),
        oversized(),
    )


@st.composite
def hostile_fields(draw, base: dict[str, str], extra_names: list[str]):
    """A carrier's fields with some dropped, replaced, repeated, blown up or
    joined by others: a list of (name, value) byte pairs, in some order."""
    names = list(base)
    dropped = draw(st.sets(st.sampled_from(names), max_size=len(names)))
    pairs = [(n.encode(), base[n].encode()) for n in names if n not in dropped]
    replaced = draw(st.dictionaries(st.sampled_from(names), field_values(), max_size=3))
    pairs = [(n, replaced.get(n.decode(), v)) for n, v in pairs]
    repeated = draw(st.lists(st.sampled_from(names), max_size=3))
    for name in repeated:
        pairs.append((name.encode(), draw(field_values())))
    extra = draw(
        st.lists(
            st.tuples(
                st.one_of(
                    st.sampled_from(extra_names).map(str.encode),
                    st.binary(max_size=12),
                ),
                field_values(),
            ),
            max_size=3,
        )
    )
    pairs.extend(extra)
    return draw(st.permutations(pairs))


def encode(pairs: list[tuple[bytes, bytes]], content_type: str) -> bytes:
    """The body of a request carrying these fields with this content type."""
    if content_type.startswith("multipart/form-data"):
        as_text = {}
        for name, value in pairs:
            as_text.setdefault(name.decode("latin-1"), []).append(
                value.decode("utf-8", "replace")
            )
        return encode_multipart(BOUNDARY, as_text)
    if content_type == "application/json":
        return json.dumps(
            {n.decode("latin-1"): v.decode("utf-8", "replace") for n, v in pairs}
        ).encode()
    return b"&".join(
        quote_from_bytes(name).encode() + b"=" + quote_from_bytes(value).encode()
        for name, value in pairs
    )


def parsed_form(path: str, body: bytes, content_type: str):
    """The POST fields Django will read from this request (its own parser),
    or an empty form when it cannot read any."""
    request = RequestFactory().generic("POST", path, body, content_type=content_type)
    try:
        return request.POST.copy()
    except Exception:
        return {}


def twilio_signature(url: str, path: str, body: bytes, content_type: str, token: str):
    """X-Twilio-Signature over the fields as our server will read them, so a
    fuzzed body passes the check and reaches the parser."""
    return sign_like_twilio(url, parsed_form(path, body, content_type), token)


def simulator_headers(url: str, body: bytes) -> dict[str, str]:
    """The simulator's signature headers, as Django test client extras."""
    signed = phone_network.signed_headers(url, body)
    return {
        "HTTP_X_SIMULATOR_TIMESTAMP": signed["X-Simulator-Timestamp"],
        "HTTP_X_SIMULATOR_NONCE": signed["X-Simulator-Nonce"],
        "HTTP_X_SIMULATOR_SIGNATURE": signed["X-Simulator-Signature"],
    }


def row_counts() -> dict[str, int]:
    """How many rows every model of ours (and the users) holds, in one query."""
    models = list(apps.get_app_config("chatserver").get_models())
    models.append(get_user_model())
    tables = [connection.ops.quote_name(m._meta.db_table) for m in models]
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        counts = cursor.fetchone()
    return {model.__name__: count for model, count in zip(models, counts, strict=True)}
