"""The simulated phone network: its phones and their texts, the courier that
posts them to our webhooks, and pictures on the network.

A development tool, not a store: the phones live in an append-only JSON-lines
file under ``SIMULATOR_DIR``, so the web process (which shows the page) and a
worker process (which sends) see the same network. Each phone has a *mode*
that makes the network misbehave the ways real ones do (``MODES``). Its
carrier side, the adapter the domain talks to, is ``carriers.simulator``.
"""

from __future__ import annotations

import fcntl
import heapq
import ipaddress
import itertools
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.crypto import salted_hmac

from carriers.base import MediaError

log = logging.getLogger(__name__)


_SALT = "carriers.simulator.webhook"


# What a phone's mode makes the network do with texts sent to it.
MODES = {
    "deliver": "Delivers texts",
    "undelivered": "Switched off: texts are undelivered",
    "fail": "Landline: texts fail",
    "opted_out": "Opted out at the carrier: sends are refused",
    "invalid": "Not a mobile number: sends are refused",
    "down": "Carrier unreachable: sends are retried later",
    "timeout": "Carrier takes texts but never answers",
}


DEFAULT_MODE = "deliver"


TO_PHONE = "to_phone"  # a text the company sent; the phone received it


FROM_PHONE = "from_phone"  # a text the phone sent to the company


# Pictures on the network: a phone's attachments are kept in its media store
# and named in webhooks by these URLs, which only this network can read (the
# simulator's "media host"; nothing is fetched over HTTP for them).
MEDIA_ORIGIN = "simulator://media"


MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")


def signature(url: str, timestamp: str, body: bytes, nonce: str = "") -> str:
    """The simulator's signature of a POST to ``url`` with this body."""
    value = (
        timestamp.encode() + b"\n" + nonce.encode() + b"\n" + url.encode() + b"\n"
    ) + body
    return salted_hmac(
        _SALT, value, secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def signed_headers(url: str, body: bytes) -> dict[str, str]:
    """The headers that make a POST of ``body`` to ``url`` pass ``verify``:
    signed now, with a nonce of its own (a second POST is signed anew)."""
    timestamp = str(int(time.time()))
    nonce = uuid.uuid4().hex
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Simulator-Timestamp": timestamp,
        "X-Simulator-Nonce": nonce,
        "X-Simulator-Signature": signature(url, timestamp, body, nonce),
    }


class PhoneNetwork:
    """The simulated phones: every text to and from them, and their modes.

    Stored as an append-only log of JSON records in ``directory``, locked
    for each write, so several processes share one network.
    """

    def __init__(self, directory: Path):
        self.path = Path(directory) / "network.jsonl"
        self.media_dir = Path(directory) / "media"

    def store_media(self, content: bytes, content_type: str) -> dict[str, str]:
        """Keep a picture on the network; returns ``{"id", "content_type"}``."""
        media_id = uuid.uuid4().hex
        self.media_dir.mkdir(parents=True, exist_ok=True)
        (self.media_dir / media_id).write_bytes(content)
        (self.media_dir / f"{media_id}.type").write_text(content_type[:100])
        return {"id": media_id, "content_type": content_type[:100]}

    def media_file(self, media_id: str) -> tuple[Path, str] | None:
        """The file of a picture on the network and its type; None if unknown."""
        if not MEDIA_ID.match(media_id or ""):
            return None
        path = self.media_dir / media_id
        if not path.is_file():
            return None
        kind = self.media_dir / f"{media_id}.type"
        return path, kind.read_text() if kind.is_file() else ""

    def _append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": time.time(), **record}) + "\n"
        with self.path.open("a", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            file.write(line)
            file.flush()

    def _records(self) -> list[dict[str, Any]]:
        try:
            file = self.path.open(encoding="utf-8")
        except FileNotFoundError:
            return []
        with file:
            fcntl.flock(file, fcntl.LOCK_SH)
            lines = file.read().splitlines()
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except ValueError:
                log.warning("simulator: unreadable record skipped: %r", line[:80])
        return records

    def add_message(
        self,
        direction: str,
        phone: str,
        company: str,
        body: str,
        status: str,
        media: list[dict[str, str]] | None = None,
        media_problem: str = "",
    ) -> str:
        """Record a text to or from a phone; returns its network id.

        ``media``: its pictures, as ``store_media`` returned them;
        ``media_problem``: why pictures sent with it did not reach the phone.
        """
        message_id = "SIM" + uuid.uuid4().hex
        record = {
            "kind": "message",
            "id": message_id,
            "direction": direction,
            "phone": phone,
            "company": company,
            "body": body,
            "status": status,
        }
        if media:
            record["media"] = media
        if media_problem:
            record["media_problem"] = media_problem
        self._append(record)
        return message_id

    def set_status(self, message_id: str, status: str, detail: str = "") -> None:
        """Record where a text is (delivered, failed, refused by the webhook...)."""
        self._append(
            {"kind": "status", "id": message_id, "status": status, "detail": detail}
        )

    def set_mode(self, phone: str, mode: str) -> None:
        """Make the network treat texts to ``phone`` as ``mode`` says."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        self._append({"kind": "mode", "phone": phone, "mode": mode})

    def state(self) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """Every phone's mode, and every text with its latest status, in order."""
        modes: dict[str, str] = {}
        messages: dict[str, dict[str, Any]] = {}
        for record in self._records():
            kind = record.get("kind")
            if kind == "mode":
                modes[record["phone"]] = record["mode"]
            elif kind == "message":
                messages[record["id"]] = {
                    "media": [],
                    "media_problem": "",
                    **record,
                    "detail": "",
                }
            elif kind == "status" and record.get("id") in messages:
                messages[record["id"]].update(
                    status=record["status"],
                    detail=record.get("detail", ""),
                    updated_at=record["at"],
                )
        return modes, list(messages.values())

    def mode(self, phone: str) -> str:
        """The mode of one phone."""
        modes, _ = self.state()
        return modes.get(phone, DEFAULT_MODE)

    def messages(self, phone: str | None = None) -> list[dict[str, Any]]:
        """Every text to and from ``phone`` (or every phone), oldest first."""
        _, messages = self.state()
        return [m for m in messages if phone is None or m["phone"] == phone]


def network() -> PhoneNetwork:
    """The network of this installation (``SIMULATOR_DIR``)."""
    return PhoneNetwork(settings.SIMULATOR_DIR)


def is_loopback(url: str) -> bool:
    """Whether a URL names this machine (localhost or a loopback address)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Courier:
    """Delivers the network's webhook POSTs, in time order, from one thread.

    Like a carrier it retries a POST that fails or gets a 5xx, with backoff,
    and gives up on a 4xx.
    """

    RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
    TIMEOUT = 10.0

    def __init__(self) -> None:
        self._jobs: list[tuple[float, int, dict[str, Any]]] = []
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None

    def post(
        self,
        url: str,
        fields: dict[str, str],
        delay: float = 0.0,
        on_result: Callable[[int | None, str], None] | None = None,
    ) -> None:
        """POST ``fields`` to ``url`` after ``delay`` seconds, signed."""
        job = {"url": url, "fields": fields, "attempt": 0, "on_result": on_result}
        self._schedule(job, delay)

    def _schedule(self, job: dict[str, Any], delay: float) -> None:
        with self._ready:
            heapq.heappush(
                self._jobs, (time.monotonic() + delay, next(self._order), job)
            )
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="simulator-courier", daemon=True
                )
                self._thread.start()
            self._ready.notify()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._jobs or self._jobs[0][0] > time.monotonic():
                    timeout = (
                        self._jobs[0][0] - time.monotonic() if self._jobs else None
                    )
                    self._ready.wait(timeout)
                _, _, job = heapq.heappop(self._jobs)
            try:
                self._deliver(job)
            except Exception:  # the courier must outlive any one bad job
                log.exception("simulator: delivering to %s failed", job["url"])

    def _deliver(self, job: dict[str, Any]) -> None:
        if not is_loopback(job["url"]):
            # A simulated phone network lives on this machine: it never sends
            # anything to another host, whatever PUBLIC_BASE_URL says.
            log.warning("simulator: not posting to %s (not this machine)", job["url"])
            if job["on_result"] is not None:
                job["on_result"](None, "the simulator only posts to this machine")
            return
        body = urllib.parse.urlencode(job["fields"]).encode()
        request = urllib.request.Request(
            job["url"], data=body, headers=signed_headers(job["url"], body)
        )
        try:
            with urllib.request.urlopen(request, timeout=self.TIMEOUT) as response:
                status, text = (
                    response.status,
                    response.read(500).decode(errors="replace"),
                )
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read(500).decode(errors="replace")
        except OSError as exc:
            status, text = None, str(exc)
        if (status is None or status >= 500) and job["attempt"] < len(
            self.RETRY_DELAYS
        ):
            delay = self.RETRY_DELAYS[job["attempt"]]
            job["attempt"] += 1
            log.debug(
                "simulator: %s answered %s; retrying in %ss", job["url"], status, delay
            )
            self._schedule(job, delay)
            return
        if status is None or status >= 400:
            log.warning(
                "simulator: %s answered %s: %s", job["url"], status, text.strip()
            )
        if job["on_result"] is not None:
            job["on_result"](status, text.strip())


courier = Courier()


def text_company(
    phone: str,
    company: str,
    body: str,
    webhook_url: str,
    media: list[tuple[bytes, str]] = (),
) -> str:
    """A simulated phone texts a company number: recorded on the phone, then
    POSTed to the company's inbound webhook. Returns the network's id.

    ``media``: pictures sent with it (an MMS), as ``(content, content_type)``;
    the webhook names them as Twilio does (``NumMedia``, ``MediaUrlN``).
    """
    net = network()
    stored = [net.store_media(content, kind) for content, kind in media]
    message_id = net.add_message(
        FROM_PHONE, phone, company, body, "sending", media=stored
    )

    def delivered(status: int | None, text: str) -> None:
        if status is not None and 200 <= status < 300:
            net.set_status(message_id, "delivered")
        elif status is None:
            net.set_status(message_id, "failed", f"company unreachable: {text}")
        else:
            net.set_status(message_id, "failed", f"company answered {status}: {text}")

    fields = {"MessageId": message_id, "From": phone, "To": company, "Body": body}
    if stored:
        fields["NumMedia"] = str(len(stored))
        for index, item in enumerate(stored):
            fields[f"MediaUrl{index}"] = f"{MEDIA_ORIGIN}/{item['id']}"
            fields[f"MediaContentType{index}"] = item["content_type"]
    courier.post(webhook_url, fields, on_result=delivered)
    return message_id


def fetch_for_phone(url: str, max_bytes: int) -> dict[str, str]:
    """A phone downloads a picture the company sent (the signed URL the
    outbox gave): stored on the network, or MediaError. Like the courier, the
    network only talks to this machine."""
    if not is_loopback(url):
        raise MediaError("not fetched: the simulator only fetches from this machine")
    request = urllib.request.Request(url, headers={"Accept": "image/*"})
    try:
        with urllib.request.urlopen(request, timeout=Courier.TIMEOUT) as response:
            content = response.read(max_bytes + 1)
            kind = response.headers.get("Content-Type", "").split(";")[0].strip()
    except urllib.error.HTTPError as exc:
        raise MediaError(f"the picture's URL answered {exc.code}") from None
    except OSError as exc:
        raise MediaError(f"the picture's URL could not be fetched ({exc})") from None
    if len(content) > max_bytes:
        raise MediaError("the picture is larger than a phone takes")
    return network().store_media(content, kind)
