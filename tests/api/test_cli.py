"""The `cdp` command: keys made on the command line work over GraphQL; bad settings
stop it with one line."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cdp.cli import app
from graphql_schema.app import create_app

from .helpers import TestClient, api_settings

KEY_LINE = re.compile(r"^key:    (cdp_(key_[0-9a-f]{20})_[0-9a-f]{64})$", re.MULTILINE)
READ = {"query": '{ profile(id: "p_x") { id } }'}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def cdp(db: Path) -> CliRunner:
    return CliRunner(env={"CDP_STORE_URL": f"sqlite:///{db}"})


def create_key(cdp: CliRunner, *args: str) -> tuple[str, str, Result]:
    result = cdp.invoke(app, ["keys", "create", *args])
    assert result.exit_code == 0, result.output
    match = KEY_LINE.search(result.stdout)
    assert match is not None, result.stdout
    return match.group(2), match.group(1), result


def errors_of(client: TestClient, key: str) -> list[str]:
    response = client.post("/graphql", json=READ, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


def test_keys_create_prints_a_key_that_authenticates(cdp: CliRunner, db: Path) -> None:
    key_id, plain, result = create_key(cdp, "--name", "store-42 tills", "--scopes", "pos")

    assert result.stdout == (
        f"id:     {key_id}\n"
        "scopes: events:write loyalty:read loyalty:write profiles:read profiles:write\n"
        f"key:    {plain}\n"
    )
    with TestClient(create_app(settings=api_settings(db, admin_key=None))) as client:
        assert errors_of(client, plain) == []
        assert errors_of(client, plain + "0") == ["UNAUTHENTICATED"]


def test_keys_create_accepts_several_scopes(cdp: CliRunner) -> None:
    _, _, result = create_key(
        cdp, "--name", "ops", "--scopes", "profiles:read", "--scopes", "keys:admin"
    )

    assert "scopes: keys:admin profiles:read\n" in result.stdout


def test_keys_create_with_an_unknown_scope_exits_1(cdp: CliRunner) -> None:
    result = cdp.invoke(app, ["keys", "create", "--name", "x", "--scopes", "superuser"])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("BAD_USER_INPUT: unknown scope 'superuser'")
    assert "Traceback" not in result.output


def test_keys_list_shows_each_key_without_its_secret(cdp: CliRunner) -> None:
    key_id, plain, _ = create_key(cdp, "--name", "kiosk-7", "--scopes", "kiosk")
    secret = plain.rsplit("_", 1)[1]

    result = cdp.invoke(app, ["keys", "list"])

    assert result.exit_code == 0
    row = next(line for line in result.stdout.splitlines() if key_id in line)
    assert "kiosk-7" in row
    assert "KIOSK" in row
    assert secret not in result.stdout


def test_keys_revoke_stops_the_key_from_authenticating(cdp: CliRunner, db: Path) -> None:
    key_id, plain, _ = create_key(cdp, "--name", "till", "--scopes", "pos")

    with TestClient(create_app(settings=api_settings(db, admin_key=None))) as client:
        assert errors_of(client, plain) == []

        first = cdp.invoke(app, ["keys", "revoke", key_id])
        second = cdp.invoke(app, ["keys", "revoke", key_id])

        assert (first.exit_code, first.stdout) == (0, f"{key_id} revoked\n")
        assert (second.exit_code, second.stdout) == (0, f"{key_id} was already revoked\n")
        assert errors_of(client, plain) == ["UNAUTHENTICATED"]
    listed = cdp.invoke(app, ["keys", "list"])
    row = next(line for line in listed.stdout.splitlines() if key_id in line)
    revoked_column = row.split("│")[-2].strip()  # cut short at the runner's 80 columns
    assert re.match(r"\d{4}-\d\d", revoked_column) is not None


def test_keys_revoke_an_unknown_key_exits_1(cdp: CliRunner) -> None:
    result = cdp.invoke(app, ["keys", "revoke", "key_00000000000000000000"])

    assert result.exit_code == 1
    assert result.stderr == "NOT_FOUND: API key key_00000000000000000000 not found\n"


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"CDP_ENV": "staging"}, "CDP_ENV"),
        ({"CDP_STORE_URL": "ftp://x"}, "CDP_STORE_URL"),
        ({"CDP_ADMIN_KEY": "short"}, "CDP_ADMIN_KEY"),
        ({"CDP_MAX_QUERY_DEPTH": "1"}, "CDP_MAX_QUERY_DEPTH"),
        ({"CDP_WEBHOOK_SOURCES": "not json"}, "CDP_WEBHOOK_SOURCES"),
        # shorter than syncHealth's longest window; shorter than a replay window
        ({"CDP_RETENTION_SYNC_LOG_DAYS": "7"}, "CDP_RETENTION_SYNC_LOG_DAYS"),
        ({"CDP_RETENTION_IDEMPOTENCY_DAYS": "1"}, "CDP_RETENTION_IDEMPOTENCY_DAYS"),
        ({"CDP_ENV": "production"}, "CDP_PROGRAM_FILE"),  # no program: no demo in production
    ],
)
@pytest.mark.parametrize("command", [["keys", "list"], ["schema"]])
def test_bad_setting_exits_2_with_one_line_naming_it(
    cdp: CliRunner, env: dict[str, str], setting: str, command: list[str]
) -> None:
    result = cdp.invoke(app, command, env=env)

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"configuration error: {setting}: ")
    assert "Traceback" not in result.output


def unreachable_mongodb_url() -> str:
    """A MongoDB URL (with a password) on a loopback port nothing listens on."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    return f"mongodb://cdp:s3cret@127.0.0.1:{port}/cdp"


@pytest.mark.parametrize("command", [["keys", "list"], ["serve"]])
def test_a_store_that_cannot_be_opened_exits_2_with_one_line(
    cdp: CliRunner, tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path}/a-file/cdp.db"

    result = cdp.invoke(app, command, env={"CDP_STORE_URL": url})

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"store unavailable: CDP_STORE_URL={url}: sqlite: cannot open ")


def test_an_unreachable_mongodb_stops_serve_with_one_line_and_no_password(
    cdp: CliRunner,
) -> None:
    url = unreachable_mongodb_url()

    result = cdp.invoke(app, ["serve"], env={"CDP_STORE_URL": url})

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"store unavailable: CDP_STORE_URL={url.replace('s3cret', '***')}: mongodb: "
    )
    assert "s3cret" not in result.stderr
