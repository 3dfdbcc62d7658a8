"""Real server processes for end-to-end tests.

A ``Stack`` is a database of its own (a temporary SQLite file, or a fresh
PostgreSQL database when DATABASE_URL points at one), set up with the real
``chatserver`` commands, and any number of Daphne processes serving it, started
as `make run` starts one. Tests talk to them only over HTTP and WebSockets.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


def chatserver(*args: str, env: dict) -> str:
    """Run a ``chatserver`` command; returns its output, raises on failure."""
    result = subprocess.run(
        [str(BIN / "chatserver"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"chatserver {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/console/"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is None:
            (self.process.kill if kill else self.process.terminate)()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@dataclass
class Stack:
    """A database and the servers that share it."""

    env: dict
    workdir: Path
    database_url: str
    servers: list[Server] = field(default_factory=list)
    drop_database: str | None = None

    def command(self, *args: str, **extra_env: str) -> str:
        return chatserver(*args, env={**self.env, **extra_env})

    def start_server(
        self, port: int | None = None, daphne_flags=(), **extra_env: str
    ) -> Server:
        """Start one Daphne process as `make run` does (with ``daphne_flags``
        added: the Procfile's, say)."""
        port = port or free_port()
        log_path = self.workdir / f"daphne-{port}.log"
        env = {**self.env, **extra_env}
        process = subprocess.Popen(
            [str(BIN / "daphne"), *daphne_flags, "-b", "127.0.0.1", "-p", str(port),
             "chatserver.asgi:application"],
            env=env,
            cwd=ROOT,
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        server = Server(port, process, log_path)
        try:
            wait_for_port(port, process)
        except Exception:
            server.stop(kill=True)
            raise RuntimeError(f"daphne did not start:\n{server.log()}") from None
        self.servers.append(server)
        return server

    def start_worker(self, **extra_env: str) -> subprocess.Popen:
        """Start the outbox worker (the Procfile's ``worker``)."""
        log_path = self.workdir / f"worker-{uuid.uuid4().hex[:6]}.log"
        return subprocess.Popen(
            [str(BIN / "chatserver"), "run_outbox"],
            env={**self.env, **extra_env},
            cwd=ROOT,
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        if self.drop_database:
            admin_url = re.sub(r"/[^/]*$", "/postgres", self.drop_database[0])
            psql(admin_url, f'DROP DATABASE IF EXISTS "{self.drop_database[1]}"')
        shutil.rmtree(self.workdir, ignore_errors=True)


def psql(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def make_stack(**extra_env: str) -> Stack:
    """A fresh database, migrated by the real command, and an environment to
    start servers with. Uses PostgreSQL when DATABASE_URL names one."""
    workdir = Path(tempfile.mkdtemp(prefix="chatserver-e2e-"))
    base_url = os.environ.get("DATABASE_URL", "")
    drop = None
    if base_url.startswith(("postgres://", "postgresql://")):
        name = f"e2e_{uuid.uuid4().hex[:10]}"
        admin_url = re.sub(r"/[^/]*$", "/postgres", base_url)
        psql(admin_url, f'CREATE DATABASE "{name}"')
        database_url = re.sub(r"/[^/]*$", f"/{name}", base_url)
        drop = (base_url, name)
    else:
        database_url = f"sqlite:///{workdir / 'db.sqlite3'}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "chatserver.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "true",
            "SECRET_KEY": "e2e-tests-only",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CHATSERVER_VAR_DIR": str(workdir / "var"),
            "PUBLIC_BASE_URL": "",
            "REDIS_URL": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra_env)
    stack = Stack(env=env, workdir=workdir, database_url=database_url, drop_database=drop)
    stack.command("migrate", "--noinput", "-v0")
    return stack


class Browserless:
    """An HTTP client with a cookie jar: logs in as a person does."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base_url + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def cookie(self, name: str) -> str | None:
        for cookie in self.jar:
            if cookie.name == name:
                return cookie.value
        return None

    def login(self, username: str, password: str) -> str:
        """Log in through Django's own form; returns the session id."""
        status, _ = self.get("/accounts/login/")
        assert status == 200
        data = urllib.parse.urlencode(
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.cookie("csrftoken"),
            }
        ).encode()
        request = urllib.request.Request(
            self.base_url + "/accounts/login/",
            data=data,
            headers={"Referer": self.base_url + "/accounts/login/"},
        )
        with self.opener.open(request, timeout=10):
            pass
        session = self.cookie("sessionid")
        if not session:
            raise AssertionError(f"login as {username} failed")
        return session

    def ws_headers(self) -> dict[str, str]:
        """Headers a browser sends when it opens the console's socket."""
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        return {"Cookie": cookies, "Origin": self.base_url}


async def open_console(server: Server, username: str, password: str):
    """Log in through the form and open the console's socket, as a browser
    does; returns (client, socket, hello)."""
    import websockets

    client = Browserless(server.url)
    await asyncio.to_thread(client.login, username, password)
    socket = await websockets.connect(
        server.ws_url, additional_headers=client.ws_headers()
    )
    hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert hello["type"] == "hello"
    return client, socket, hello


async def next_of(socket, type_: str, timeout: float = 10, where=None, **fields):
    """The next frame of this type whose ``fields`` match (and for which
    ``where`` holds), skipping the others."""

    def wanted(frame: dict) -> bool:
        return (
            frame["type"] == type_
            and all(frame.get(name) == value for name, value in fields.items())
            and (where is None or where(frame))
        )

    async def wait():
        while True:
            frame = json.loads(await socket.recv())
            if wanted(frame):
                return frame

    return await asyncio.wait_for(wait(), timeout)


def text_through_simulator(
    server: Server, secret_key: str, phone: str, to: str, body: str
) -> int:
    """A phone texts ``to``: the simulated carrier's inbound webhook, signed
    as the network signs it; returns the HTTP status."""
    from django.test import override_settings

    from carriers import phone_network

    url = f"{server.url}/carriers/simulator/inbound"
    fields = {
        "MessageId": f"SIM{uuid.uuid4().hex}",
        "From": phone,
        "To": to,
        "Body": body,
    }
    data = urllib.parse.urlencode(fields).encode()
    with override_settings(SECRET_KEY=secret_key):
        headers = phone_network.signed_headers(url, data)
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status
