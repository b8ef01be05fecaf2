"""Start a mongoeco wire server for the test session, so the MongoDB adapter is tested
over the real wire protocol without a MongoDB install."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv-mongoeco" / "bin" / "python"
SERVER = Path(__file__).with_name("mongoeco_server.py")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class MongoecoUnavailable(RuntimeError):
    """The wire server could not be started."""


def start_mongoeco() -> tuple[str, Callable[[], None]]:
    """Start the server in a subprocess: (its mongodb:// URI, a function that stops it)."""
    if not VENV_PYTHON.exists():
        raise MongoecoUnavailable(
            f"{VENV_PYTHON} is missing: run scripts/mongoeco-venv (needs Python 3.13) to "
            "create it, or set CDP_TEST_MONGODB_URL to a MongoDB replica set"
        )
    # Its log goes to a file, never to a pipe nobody drains (a full pipe would hang it).
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop)
    proc = subprocess.Popen(
        [str(VENV_PYTHON), str(SERVER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )

    def stop() -> None:
        if proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()  # the server exits when its stdin closes
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        log.close()

    uri = _first_line(proc, START_TIMEOUT_S)
    if not uri.startswith("mongodb://"):
        proc.kill()
        proc.wait()
        log.seek(0)
        output = log.read().decode(errors="replace").strip()
        stop()
        raise MongoecoUnavailable(
            f"mongoeco wire server did not start (exit code {proc.returncode}); printed "
            f"{uri!r}; its log:\n{output}\n(re-run scripts/mongoeco-venv if it is broken)"
        )
    return uri, stop


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The first line the server prints, or "" if it exits or stays silent too long."""
    line: list[str] = []
    assert proc.stdout is not None
    stdout = proc.stdout
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return line[0].strip() if line else ""
