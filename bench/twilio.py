"""Twilio, as far as the harness plays it.

``Webhooks`` sends inbound-message webhooks signed exactly as Twilio signs them
(``twilio.request_validator.RequestValidator`` over the public URL and the
form), at a steady rate, and retries the ones answered 5xx or not answered, as
Twilio's retries would. ``FakeTwilio`` stands where the SDK thinks Twilio's API
is: it passes every request on to Prism (Twilio's OpenAPI description, mocked),
notes when each message was accepted, and then calls the message's
``StatusCallback`` with a signed "delivered", as Twilio does.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "be" * 16  # fictional
AUTH_TOKEN = "bench-auth-token-not-a-secret"
PUBLIC_BASE_URL = "https://chat.example.com"
INBOUND_PATH = "/carriers/twilio/inbound"


def lead_numbers(count: int) -> list[str]:
    """Fictional lead numbers (NXX-555-01XX is reserved for fiction)."""
    areas = ["212", "312", "617", "206", "303", "512", "702", "213"]
    return [f"+1{areas[n // 100 % len(areas)]}55501{n % 100:02d}" for n in range(count)]


@dataclass
class Delivery:
    """One webhook: when it was first sent, and every answer it got."""

    seq: int
    sent: float
    sid: str
    answers: list[tuple[int, float]] = field(default_factory=list)  # (status, ms)
    server: str = ""  # the server that accepted it

    @property
    def accepted(self) -> bool:
        return any(200 <= status < 300 for status, _ in self.answers)

    @property
    def first_ms(self) -> float | None:
        return self.answers[0][1] if self.answers else None


class Webhooks:
    """Signed inbound webhooks, spread over the servers like a load balancer."""

    def __init__(
        self,
        servers: list[str],
        sender: str,
        numbers: list[str],
        retry_for: float = 60.0,
    ):
        self.servers = list(servers)
        self.sender = sender
        self.numbers = numbers
        self.retry_for = retry_for
        self.validator = RequestValidator(AUTH_TOKEN)
        self.session: aiohttp.ClientSession | None = None
        self.turn = 0

    async def __aenter__(self) -> Webhooks:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=400, force_close=False),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()

    def form(self, phase: str, seq: int, sid: str, sent: float, body: str) -> dict:
        from_number = self.numbers[seq % len(self.numbers)]
        return {
            "ToCountry": "US",
            "ToState": "CA",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "SAN FRANCISCO",
            "FromZip": "",
            "SmsSid": sid,
            "FromState": "",
            "SmsStatus": "received",
            "FromCity": "",
            "Body": body,
            "FromCountry": "US",
            "To": self.sender,
            "ToZip": "94105",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": from_number,
            "ApiVersion": "2010-04-01",
        }

    async def post_once(self, form: dict) -> tuple[int, float, str]:
        """POST to one server, failing over to the next when it refuses."""
        signature = self.validator.compute_signature(
            PUBLIC_BASE_URL + INBOUND_PATH, form
        )
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        for _ in range(len(self.servers)):
            server = self.servers[self.turn % len(self.servers)]
            self.turn += 1
            started = time.monotonic()
            try:
                async with self.session.post(
                    server + INBOUND_PATH, data=form, headers=headers
                ) as response:
                    await response.read()
                    return response.status, (time.monotonic() - started) * 1000, server
            except aiohttp.ServerDisconnectedError:
                # It may have stored it and died before answering: Twilio sees
                # no answer and retries later (a duplicate changes nothing).
                return 0, (time.monotonic() - started) * 1000, server
            except (aiohttp.ClientConnectionError, OSError):
                continue  # refused: the balancer tries the next server
        return 0, 0.0, ""  # no server took the connection

    async def deliver(self, phase: str, seq: int, body_for) -> Delivery:
        sent = time.monotonic()
        sid = "SM" + uuid.uuid4().hex
        delivery = Delivery(seq, sent, sid)
        form = self.form(phase, seq, sid, sent, body_for(phase, seq, sent))
        delay = 0.5
        while True:
            status, ms, server = await self.post_once(form)
            delivery.answers.append((status, ms))
            if 200 <= status < 300:
                delivery.server = server
            if 200 <= status < 500 or time.monotonic() - sent > self.retry_for:
                return delivery
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)

    async def run(
        self, phase: str, rate: float, count: int, body_for
    ) -> list[Delivery]:
        """Send ``count`` webhooks at ``rate`` a second (open loop: a slow answer
        never delays the next one), then wait for all of them to be answered."""
        start = time.monotonic()
        tasks = []
        try:
            for seq in range(count):
                await asyncio.sleep(max(0.0, start + seq / rate - time.monotonic()))
                tasks.append(asyncio.create_task(self.deliver(phase, seq, body_for)))
            return list(await asyncio.gather(*tasks))
        except asyncio.CancelledError:  # the run was stopped
            for task in tasks:
                task.cancel()
            raise


class FakeTwilio:
    """Twilio's API for the outbox (via Prism), and its status callbacks."""

    def __init__(self, prism_url: str, servers: list[str], callback_delay: float = 0.3):
        self.prism_url = prism_url
        self.servers = servers
        self.callback_delay = callback_delay
        self.validator = RequestValidator(AUTH_TOKEN)
        self.accepted: dict[int, dict] = {}
        self.callbacks: dict[int, dict] = {}
        self.refused: list[dict] = []
        self.runner: web.AppRunner | None = None
        self.port = 0
        self.tasks: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int) -> None:
        self.port = port
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self.session.close()
        await self.runner.cleanup()

    async def forward(self, request: web.Request) -> web.Response:
        received_at = time.monotonic()
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length")
        }
        async with self.session.request(
            request.method, self.prism_url + request.path_qs, data=body, headers=headers
        ) as answer:
            payload = await answer.read()
            status = answer.status
            content_type = answer.headers.get("Content-Type", "application/json")
        accepted_at = time.monotonic()
        if request.method == "POST" and request.path.endswith("/Messages.json"):
            form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
            callback = form.get("StatusCallback", "")
            ref = urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query).get(
                "ref"
            )
            if 200 <= status < 300 and ref:
                sid = json.loads(payload).get("sid")
                self.accepted[int(ref[0])] = {
                    "t": accepted_at,
                    "received": received_at,
                    "sid": sid,
                }
                task = asyncio.create_task(
                    self.call_back(int(ref[0]), callback, sid, form)
                )
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            elif not 200 <= status < 300:
                self.refused.append({"status": status, "body": payload[:300].decode()})
        return web.Response(
            body=payload, status=status, headers={"Content-Type": content_type}
        )

    async def call_back(self, ref: int, url: str, sid: str, form: dict) -> None:
        """Report the message delivered, signed, as Twilio would."""
        await asyncio.sleep(self.callback_delay)
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": "delivered",
            "SmsStatus": "delivered",
            "AccountSid": ACCOUNT_SID,
            "From": form.get("From", ""),
            "To": form.get("To", ""),
            "ApiVersion": "2010-04-01",
        }
        signature = self.validator.compute_signature(url, params)
        server = self.servers[ref % len(self.servers)]
        target = (
            server + url[len(PUBLIC_BASE_URL) :]
            if url.startswith(PUBLIC_BASE_URL)
            else url
        )
        started = time.monotonic()
        try:
            async with self.session.post(
                target, data=params, headers={"X-Twilio-Signature": signature}
            ) as r:
                await r.read()
                status = r.status
        except aiohttp.ClientError as exc:
            status = f"{type(exc).__name__}"
        self.callbacks[ref] = {
            "t": started,
            "status": status,
            "ms": (time.monotonic() - started) * 1000,
        }
