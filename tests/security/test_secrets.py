"""Secrets come only from the environment: none in the repository, none
defaulted in production; and no real person's phone number in it either."""

from __future__ import annotations

import json
import os
import re
import subprocess

from tests.servers import BIN, ROOT

# Patterns of credentials that must never be committed.
CREDENTIALS = {
    "Twilio account SID": re.compile(r"\bAC[0-9a-f]{32}\b"),
    "Twilio API key SID": re.compile(r"\bSK[0-9a-f]{32}\b"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "URL with a password": re.compile(
        r"\b(?:postgres|redis)s?://[^:/\s]+:[^@\s]{12,}@"
    ),
}
# The suite's own fake account (all zeros) is no credential.
FAKE_SID = "AC" + "0" * 32
# North American numbers; only 555-0100 to 555-0199 are for fiction.
PHONE = re.compile(r"\+1[2-9]\d{2}[2-9]\d{6}\b")
FICTIONAL = re.compile(r"\+1\d{3}5550[1]\d{2}\b")
# Twilio's published signature example (tests/carriers), quoted as published.
PUBLISHED_EXAMPLES = {"+14158675310", "+12349013030", "+18005551212"}


def repository_files() -> list[str]:
    """Every file the repository holds or would add (not the ignored ones)."""
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        name
        for name in listing.stdout.splitlines()
        if (ROOT / name).is_file()
        and not name.endswith((".png", ".jpg", ".ico", ".woff", ".woff2", ".pdf"))
    ]


def test_no_credentials_are_in_the_repository():
    found = []
    for name in repository_files():
        text = (ROOT / name).read_text(errors="replace")
        for what, pattern in CREDENTIALS.items():
            for match in pattern.finditer(text):
                if match.group(0) != FAKE_SID:
                    found.append(f"{name}: {what}: {match.group(0)[:12]}...")
    assert found == []


def test_no_real_phone_numbers_are_in_the_repository():
    found = []
    for name in repository_files():
        text = (ROOT / name).read_text(errors="replace")
        for number in set(PHONE.findall(text)):
            if not FICTIONAL.fullmatch(number) and number not in PUBLISHED_EXAMPLES:
                found.append(f"{name}: {number}")
    assert found == []


def settings_seen(env: dict) -> dict:
    code = (
        "import json; from chatserver import settings as s; print(json.dumps({"
        "'secret_key': s.SECRET_KEY, 'sid': s.TWILIO_ACCOUNT_SID,"
        "'token': s.TWILIO_AUTH_TOKEN, 'email_password': s.EMAIL_HOST_PASSWORD,"
        "'database': s.DATABASES['default'].get('PASSWORD') or ''}))"
    )
    base = {"PATH": os.environ["PATH"], "CHATSERVER_VAR_DIR": "/tmp/chatserver-secrets"}
    result = subprocess.run(
        [str(BIN / "python"), "-c", code],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_secrets_are_read_from_the_environment_and_never_defaulted():
    production = {"DEBUG": "false", "ALLOWED_HOSTS": "chat.example.com"}
    given = {
        **production,
        "SECRET_KEY": "from-the-environment-" + "x" * 40,
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "token-from-the-environment",
        "EMAIL_HOST_PASSWORD": "mail-password-from-the-environment",
        # (built in pieces: the scan above would rightly flag it whole)
        "DATABASE_URL": "postgres://chat:" + "db-password-from-env@db.example.com/chat",
    }
    assert settings_seen(given) == {
        "secret_key": given["SECRET_KEY"],
        "sid": given["TWILIO_ACCOUNT_SID"],
        "token": given["TWILIO_AUTH_TOKEN"],
        "email_password": given["EMAIL_HOST_PASSWORD"],
        "database": "db-password-from-env",
    }
    # Unset, a carrier credential is empty (every webhook is then refused),
    # never a built-in value.
    unset = settings_seen({**production, "SECRET_KEY": given["SECRET_KEY"]})
    assert unset["sid"] == unset["token"] == unset["email_password"] == ""
