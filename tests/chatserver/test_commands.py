"""The operator's commands: every one the README shows works right after
`make run`, bad input is a clear one-line refusal (never a traceback), and
rights change without the admin (issue 16: findings 9 and 10, set_agent and
set_org)."""

from __future__ import annotations

import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from chatserver import actions
from chatserver.models import AgentGroup, Organisation
from tests.servers import BIN, ROOT


def run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "chatserver"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def newcomer_env(var_dir) -> dict:
    """A shell with nothing set: what a newcomer has after `make run`."""
    return {"PATH": "/usr/bin:/bin", "CHATSERVER_VAR_DIR": str(var_dir)}


def readme_commands() -> list[list[str]]:
    """The README's example commands, as printed (the indented block that
    follows "as printed:")."""
    import shlex

    text = (ROOT / "README.md").read_text()
    block = text.split("as printed:", 1)[1].split("\n\n", 2)[1]
    return [shlex.split(line)[1:] for line in block.splitlines() if line.strip()]


def test_the_readmes_commands_work_beside_make_run(tmp_path):
    """Finding 10: `chatserver add_agent --help` ended in a 40-line traceback
    ("SECRET_KEY is required") for a newcomer who had run `make run`. With
    `make run`'s demo in place, every command the README prints runs."""
    var = tmp_path / "var"
    made = subprocess.run(
        ["make", "-s", f"CHATSERVER_VAR_DIR={var}", str(var / "local.env")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    env = newcomer_env(var)
    for command in ["add_org", "add_agent", "add_number", "set_agent", "set_org"]:
        result = run(command, "--help", env=env)
        assert result.returncode == 0, (command, result.stderr)
        assert "usage: chatserver" in result.stdout
    assert run("migrate", "-v0", env=env).returncode == 0
    assert run("seed_demo", env=env).returncode == 0  # what `make run` seeds
    commands = readme_commands()
    assert len(commands) == 5
    for command in commands:
        result = run(*command, env=env)
        assert result.returncode == 0, (command, result.stderr)
    result = run("add_number", "+14155550108", "--carrier", "twilio",
                 "--org", "Summit Roofing", env=env)  # fmt: skip
    assert "twilio is not configured here" in result.stdout


def test_a_misconfigured_production_refuses_to_start_in_one_line(tmp_path):
    result = run("add_agent", "--help", env=newcomer_env(tmp_path / "none"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith("chatserver: SECRET_KEY is required")


@pytest.mark.parametrize(
    "args, error",
    [
        (["add_agent", "bob smith", "--password", "long-enough-1"], "User name"),
        (["add_agent", "bob!", "--password", "long-enough-1"], "User name"),
        (["add_agent", "x" * 151, "--password", "long-enough-1"], "too long"),
        (["add_agent", "newbie", "--password", "short"], "too short"),
        (["add_agent", "ｖｉｃｔｉｍ", "--password", "long-enough-1"], "already exists"),
        (["add_org", "O" * 201], "too long"),
        (["add_org", "Bad \udcff name"], "surrogate"),
        (["add_number", "+1 415 555 0176 ext. 5", "--carrier", "simulator"],
         "extension"),
    ],
)  # fmt: skip
def test_the_cli_refuses_bad_input_with_a_reason(org, make_agent, args, error):
    """Finding 9: spaces and "!" in user names, over-long names and a
    full-width duplicate of a user name ended in database tracebacks; the
    password skipped Django's validators; an extension was dropped silently."""
    make_agent("victim")
    with pytest.raises(CommandError, match=error):
        call_command(*args)
    assert not get_user_model().objects.filter(username__startswith="bob").exists()


def test_a_lead_cannot_be_given_our_own_sender_number(org, sender, alice):
    with pytest.raises(actions.ActionError, match="one of our own numbers"):
        actions.create_lead(org.id, "Loop", "Lo", "Op", sender.number)
    with pytest.raises(actions.ActionError, match="extension"):
        actions.create_lead(org.id, "Ext", "E", "X", "+1 415 555 0176 ext. 5")


def test_set_agent_and_set_org_change_rights_through_the_actions(org, make_agent):
    agent = make_agent("carol", sms="allow", access="all")
    call_command("set_agent", "carol", "--sms", "deny", "--access", "mine",
                 "--images", "off", "--group", "Night shift")  # fmt: skip
    agent.refresh_from_db()
    assert (agent.sms, agent.access, agent.display_images) == ("deny", "mine", False)
    assert AgentGroup.objects.get(name="Night shift").members.get() == agent
    call_command("set_agent", "carol", "--sms", "unset", "--leave-group", "Night shift",
                 "--active", "no")  # fmt: skip
    agent.refresh_from_db()
    agent.user.refresh_from_db()
    assert agent.sms == "" and not agent.agent_groups.exists()
    assert not agent.user.is_active
    call_command("set_org", "--limit", "advanced")
    assert Organisation.objects.get().message_limit == "advanced"
    with pytest.raises(CommandError, match="No agent 'nobody'"):
        call_command("set_agent", "nobody", "--sms", "allow")


def test_the_simulator_page_answers_a_non_staff_agent_without_a_traceback(
    client, org, make_agent, caplog
):
    agent = make_agent("plain")
    client.force_login(agent.user)
    response = client.get("/simulator/")
    assert response.status_code == 403
    assert b"for staff" in response.content
    assert not [r for r in caplog.records if r.exc_info]
