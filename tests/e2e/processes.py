"""`cdp serve` processes for end-to-end tests: real CLI, real uvicorn, real sockets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.realtime.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]
CDP = Path(sys.executable).with_name("cdp")
ADMIN_KEY = "e2e-admin-key-0123456789abcdef"


class ServeProcess:
    """One `cdp serve` on a free loopback port, logging to a file in `workdir`."""

    def __init__(self, workdir: Path, name: str, **settings: str) -> None:
        self.workdir = workdir
        self.name = name
        self.port = free_port()
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def environment(self) -> dict[str, str]:
        # Nothing from the caller's own CDP_* configuration leaks in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
        env.update(
            CDP_ENV="development",
            CDP_ADMIN_KEY=ADMIN_KEY,
            CDP_HOST="127.0.0.1",
            CDP_PORT=str(self.port),
            CDP_LOG_FORMAT="console",
            CDP_JOBS_INTERVAL_SECONDS="0",
            CDP_DISPATCH_INTERVAL_SECONDS="0",
            PYTHONFAULTHANDLER="1",  # SIGABRT dumps every thread's stack (see `_hung`)
        )
        env.update({f"CDP_{k.upper()}": v for k, v in self.settings.items()})
        return env

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            [str(CDP), "serve"],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60  # generous: a loaded machine imports slowly
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self._log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not answer /healthz:\n{self._hung()}")
            time.sleep(0.05)

    def _log_tail(self, lines: int = 60) -> str:
        log = self.workdir / f"{self.name}.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def _hung(self) -> str:
        """Where a process that never answered is stuck: faulthandler writes each thread's
        stack to the log on SIGABRT, and the failure shows the log, not just its path."""
        self._end(signal.SIGABRT)
        return self._log_tail()

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def _end(self, how: signal.Signals) -> None:
        """Signal the process, and kill it if it has not ended within 10 seconds."""
        if self.process is None:
            return
        self.process.send_signal(how)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
