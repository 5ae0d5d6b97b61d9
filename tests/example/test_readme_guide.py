"""README.md's guide "Add it to your Django project in 5 minutes", followed in a brand-new
``django-admin startproject`` project with the code blocks taken from README.md itself, so the
guide and what works cannot drift apart.

Shell blocks run line by line in bash (``export`` carries over, as in a terminal); a person's
copy-and-paste of printed values is the substitution of the guide's placeholders (CLIENT_ID,
ACCESS_TOKEN, CODE, ...); the server runs on a free port instead of 8000 and the web app's
callback on a local server instead of 8080. The person's part of the sign-in is a cookie-keeping
HTTP client that fills in the login and consent pages.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import textwrap
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from tests.stub_server import LocalSite

from .conftest import ROOT, free_port
from .test_authorization_code_flow import Person, callback_site

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Add it to your Django project in 5 minutes", 1)[1].split("\n## ", 1)[0]
_BLOCK = re.compile(r"<!-- guide: ([\w-]+) -->\n( *)```\w+\n(.*?)\n\2```", re.DOTALL)
API = "https://api.example.com"


def guide_blocks() -> dict[str, str]:
    return {name: textwrap.dedent(body) for name, _indent, body in _BLOCK.findall(SECTION)}


def commands(block: str) -> list[str]:
    """The block's command lines, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]


class Terminal:
    """One shell session: each command runs in bash with the environment the previous ones
    exported, and the guide's placeholders replaced by what the person would paste."""

    def __init__(self, cwd: Path, env: dict[str, str]):
        self.cwd = cwd
        self.env = env
        self.saved = cwd / ".guide-env"
        self.values: dict[str, str] = {}

    def fill(self, text: str) -> str:
        for placeholder in sorted(self.values, key=len, reverse=True):
            text = re.sub(rf"\b{placeholder}\b", self.values[placeholder], text)
        return text

    def script(self, command: str) -> str:
        restore = f". {self.saved}\n" if self.saved.exists() else ""
        return f"{restore}{self.fill(command)}\nexport -p > {self.saved}\n"

    def run(self, command: str) -> str:
        done = subprocess.run(
            ["bash", "-ec", self.script(command)],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert done.returncode == 0, f"$ {command}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def run_block(self, block: str) -> list[str]:
        return [self.run(command) for command in commands(block)]

    def start(self, command: str) -> subprocess.Popen[str]:
        log = (self.cwd / "server.log").open("w")
        return subprocess.Popen(
            ["bash", "-c", self.script(f"exec {command}")],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )


def json_in(output: str) -> dict[str, str]:
    return json.loads(output[output.index("{") :])


def wait_for(url: str, server: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"the server did not start:\n{log.read_text()}")


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Terminal, str, LocalSite]]:
    """``django-admin startproject mysite`` with the guide's settings and urls applied."""
    subprocess.run(
        [sys.executable, "-m", "django", "startproject", "mysite"], cwd=tmp_path, check=True
    )
    root = tmp_path / "mysite"
    blocks = guide_blocks()
    settings_py = root / "mysite" / "settings.py"
    assert "import os" not in settings_py.read_text()  # what the guide must handle
    settings_py.write_text(settings_py.read_text() + "\n" + blocks["settings"] + "\n")
    (root / "mysite" / "urls.py").write_text(blocks["urls"] + "\n")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "OAUTH_", "DATABASE_", "CACHE_", "PYTHON"))
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(ROOT),  # this checkout's oauth_token, as `pip install -e` gives
        PYTHONUNBUFFERED="1",
        OAUTH_ISSUER=f"{base}/",
    )
    terminal = Terminal(root, env)
    callback = callback_site()
    terminal.values = {
        "http://127.0.0.1:8000": base,
        "http://127.0.0.1:8080/callback": callback.url,
    }
    try:
        yield terminal, base, callback
    finally:
        callback.stop()


def test_the_readme_guide_works_in_a_new_startproject(project):
    terminal, base, callback = project
    blocks = guide_blocks()
    assert set(blocks) >= {
        "settings", "urls", "setup", "serve", "m2m", "token", "verify",
        "web-client", "pkce", "authorize-url", "code", "refresh",
    }  # fmt: skip

    terminal.run_block(blocks["setup"])
    (serve,) = commands(blocks["serve"])
    assert serve == "python manage.py runserver"
    server = terminal.start(f"{serve} {base.rsplit('/', 1)[1]}")
    try:
        wait_for(f"{base}/.well-known/jwks.json", server, terminal.cwd / "server.log")
        machine_to_machine(terminal, blocks)
        sign_in_with_pkce_then_refresh(terminal, blocks, base, callback)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def machine_to_machine(terminal: Terminal, blocks: dict[str, str]) -> None:
    """Steps 6-7: an API, a client, a grant, a client_credentials token checked on the JWKS."""
    for command in commands(blocks["m2m"]):
        output = terminal.run(command)
        if "oauth_client create" in command:
            client = json_in(output)
            terminal.values |= {
                "CLIENT_ID": client["client_id"],
                "CLIENT_SECRET": client["client_secret"],
            }
    (token_output,) = terminal.run_block(blocks["token"])
    token = json.loads(token_output)
    assert token["token_type"] == "Bearer" and token["scope"] == "read:things", token
    terminal.values["ACCESS_TOKEN"] = token["access_token"]

    verify = terminal.fill(blocks["verify"])
    printed = terminal.run(f"python - <<'PY'\n{verify}\nPY")
    assert printed.split() == [f"{terminal.values['CLIENT_ID']}@clients", "read:things"]


def sign_in_with_pkce_then_refresh(
    terminal: Terminal, blocks: dict[str, str], base: str, callback: LocalSite
) -> None:
    """Step 8: a person signs in through the login and consent pages; the code (with PKCE)
    becomes tokens, and the refresh token a new pair."""
    user_block = blocks["web-client"]
    username = re.search(r"--username (\S+)", user_block).group(1)
    password = re.search(r"DJANGO_SUPERUSER_PASSWORD=(\S+)", user_block).group(1)
    for output in terminal.run_block(user_block):
        if "client_id" in output:
            web = json_in(output)
            terminal.values |= {
                "WEB_CLIENT_ID": web["client_id"],
                "WEB_CLIENT_SECRET": web["client_secret"],
            }
    (pair,) = terminal.run_block(blocks["pkce"])
    verifier, challenge = pair.split()
    state = secrets.token_urlsafe(8)
    terminal.values |= {"CODE_VERIFIER": verifier, "CODE_CHALLENGE": challenge, "STATE": state}

    person = Person()
    url, html = person.get(terminal.fill(blocks["authorize-url"].strip()))
    assert urllib.parse.urlsplit(url).path == "/accounts/login/", html
    url, html = person.submit(url, html, {"username": username, "password": password})
    assert "My web app" in html and 'value="allow"' in html, html
    landed, _ = person.submit(url, html, {"decision": "allow"})
    assert landed.startswith(callback.url + "?")
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(landed).query))
    assert params["state"] == state and params["iss"] == f"{base}/"
    terminal.values["CODE"] = params["code"]

    (exchanged,) = terminal.run_block(blocks["code"])
    tokens = json.loads(exchanged)
    assert {"access_token", "id_token", "refresh_token"} <= set(tokens), tokens
    jwks = jwt.PyJWKClient(f"{base}/.well-known/jwks.json")
    id_claims = jwt.decode(
        tokens["id_token"],
        jwks.get_signing_key_from_jwt(tokens["id_token"]).key,
        algorithms=["RS256"],
        audience=terminal.values["WEB_CLIENT_ID"],
        issuer=f"{base}/",
    )
    assert id_claims["preferred_username"] == username
    terminal.values["REFRESH_TOKEN"] = tokens["refresh_token"]

    (refreshed_output,) = terminal.run_block(blocks["refresh"])
    refreshed = json.loads(refreshed_output)
    assert refreshed["access_token"] and refreshed["refresh_token"] != tokens["refresh_token"]
    access = jwt.decode(
        refreshed["access_token"],
        jwks.get_signing_key_from_jwt(refreshed["access_token"]).key,
        algorithms=["RS256"],
        audience=API,
        issuer=f"{base}/",
    )
    assert access["sub"] == id_claims["sub"] and "read:things" in access["scope"].split()
