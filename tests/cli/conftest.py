"""The `cdp` command over a real SQLite file: a runner, and a way to look at the store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from typer.testing import CliRunner, Result

from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from cdp.cli import app
from cdp.runtime import Runtime
from cdp.settings import load_settings

T = TypeVar("T")
Json = dict[str, Any]


class Cdp:
    """`cdp ...` against one store file; `on_store` runs service code against the same."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.runner = CliRunner(env={"CDP_STORE_URL": f"sqlite:///{db}"})

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args))

    def on_store(self, work: Callable[[Runtime], Awaitable[T]]) -> T:
        async def main() -> T:
            rt = build_runtime(load_settings(store_url=f"sqlite:///{self.db}"))
            await start_runtime(rt)
            try:
                return await work(rt)
            finally:
                await stop_runtime(rt)

        return asyncio.run(main())

    def export(self, *args: str) -> list[Json]:
        """Every profile `cdp export` writes, in id order."""
        result = self("export", *args)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture
def cdp(tmp_path: Path) -> Cdp:
    return Cdp(tmp_path / "cli.db")


def write_csv(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def write_jsonl(path: Path, *records: Json | str) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path
