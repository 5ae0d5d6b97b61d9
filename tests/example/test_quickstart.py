"""The example project's start sequence (migrate, key, API, client, user) in a subprocess."""

from __future__ import annotations

import json
import sqlite3

from .conftest import credentials, manage


def test_quickstart_sets_up_once_and_prints_credentials_every_time(example_dir):
    first = manage(example_dir, "quickstart", "--no-serve", "--port", "8765")
    assert first.returncode == 0, first.stderr
    assert "signing key:   created" in first.stdout
    creds = credentials(first.stdout)
    assert f"-u {creds['client_id']}:{creds['client_secret']}" in first.stdout
    assert "http://127.0.0.1:8765/oauth/token" in first.stdout
    assert "demo / demo-password-123" in first.stdout

    second = manage(example_dir, "quickstart", "--no-serve")
    assert second.returncode == 0, second.stderr
    assert "signing key:   present" in second.stdout
    again = credentials(second.stdout)
    assert again["client_id"] == creds["client_id"]
    assert again["client_secret"] != creds["client_secret"]

    db = sqlite3.connect(example_dir / "example.sqlite3")
    try:
        counts = {
            table: db.execute(f"select count(*) from {table}").fetchone()[0]
            for table in (
                "oauth_token_api",
                "oauth_token_client",
                "oauth_token_clientgrant",
                "oauth_token_signingkey",
                "auth_user",
            )
        }
        secrets_in_db = db.execute("select secret_digest from oauth_token_client").fetchall()
    finally:
        db.close()
    assert counts == {
        "oauth_token_api": 1,
        "oauth_token_client": 1,
        "oauth_token_clientgrant": 1,
        "oauth_token_signingkey": 2,
        "auth_user": 1,
    }
    assert again["client_secret"] not in str(secrets_in_db)


def test_quickstart_without_key_encryption_key_outside_debug_fails_in_one_line(example_dir):
    result = manage(example_dir, "quickstart", "--no-serve", DEBUG="false")
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "CommandError: oauth_token.E002: OAUTH_TOKEN['KEY_ENCRYPTION_KEY'] is required when "
        "DEBUG is off."
    ]


def test_check_warns_about_development_defaults_when_debug_is_off(example_dir):
    result = manage(
        example_dir,
        "check",
        "--tag",
        "demo",
        DEBUG="false",
        OAUTH_KEY_ENCRYPTION_KEY="a-production-key-encryption-key-0123456789",
    )
    assert result.returncode == 0, result.stderr
    assert "demo.W001" in result.stderr and "SECRET_KEY, ALLOWED_HOSTS" in result.stderr
    configured = manage(
        example_dir,
        "check",
        "--tag",
        "demo",
        DEBUG="false",
        SECRET_KEY="production-secret-" * 3,
        ALLOWED_HOSTS="auth.example.com",
        OAUTH_KEY_ENCRYPTION_KEY="a-production-key-encryption-key-0123456789",
    )
    assert configured.returncode == 0 and "demo.W001" not in configured.stderr


def test_real_manage_py_json_output_and_one_line_errors(example_dir):
    """Through the real ``manage.py`` entry point: stdout is one JSON document, a failure is
    exit 1 with one line on stderr and no traceback, also before ``migrate`` ran."""
    unmigrated = manage(example_dir, "oauth_keys", "list", "--json")
    assert unmigrated.returncode == 1 and unmigrated.stdout == ""
    assert len(unmigrated.stderr.strip().splitlines()) == 1
    assert "migrate" in unmigrated.stderr and "Traceback" not in unmigrated.stderr

    assert manage(example_dir, "quickstart", "--no-serve").returncode == 0
    listed = manage(example_dir, "oauth_keys", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert sorted(k["state"] for k in json.loads(listed.stdout)) == ["current", "next"]

    missing = manage(example_dir, "oauth_client", "show", "no-such-client", "--json")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip() == "CommandError: No client with client_id 'no-such-client'."

    usage = manage(example_dir, "oauth_client", "frobnicate")
    assert usage.returncode == 2 and usage.stdout == ""
    assert len(usage.stderr.strip().splitlines()) == 1 and "invalid choice" in usage.stderr


def test_port_from_environment_sets_listen_address_and_issuer(example_dir):
    result = manage(example_dir, "quickstart", "--no-serve", PORT="9123")
    assert result.returncode == 0, result.stderr
    assert "curl -s http://127.0.0.1:9123/oauth/token" in result.stdout
    assert "OAUTH_ISSUER is" not in result.stdout
    option_wins = manage(example_dir, "quickstart", "--no-serve", "--port", "9124", PORT="9123")
    assert "curl -s http://127.0.0.1:9124/oauth/token" in option_wins.stdout
    assert "OAUTH_ISSUER is" not in option_wins.stdout
    mismatch = manage(
        example_dir,
        "quickstart",
        "--no-serve",
        "--port",
        "9124",
        OAUTH_ISSUER="https://auth.example.com/",
    )
    assert "Note: OAUTH_ISSUER is https://auth.example.com/" in mismatch.stdout


def test_unreachable_database_is_one_line_without_traceback(example_dir):
    result = manage(
        example_dir,
        "oauth_client",
        "list",
        "--json",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable",
    )
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("CommandError: Database error (")
    assert "migrate" not in lines[0]
