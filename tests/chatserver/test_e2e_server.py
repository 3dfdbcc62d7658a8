"""The server as `make run` starts it: Daphne serving the login page and console."""

import pytest

from tests.servers import Browserless

pytestmark = pytest.mark.e2e


def test_daphne_serves_login_and_console_to_a_logged_in_agent(stack):
    server = stack.start_server()
    client = Browserless(server.url)
    status, page = client.get("/")
    assert status == 200 and 'name="username"' in page  # redirected to the login form
    client.login("alice", "alice-pass-1")
    status, page = client.get("/")
    assert status == 200
    assert 'type="module"' in page and "console/js/app.js" in page
    status, css = client.get("/static/console/css/login.css")
    assert status == 200 and "font-family" in css
