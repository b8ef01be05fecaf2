"""A mongoeco wire server for the test session (run it under .venv-mongoeco/bin/python).

Prints the server's URI on one line, then serves until its stdin closes (the parent
died or is done) or it gets SIGTERM/SIGINT. Data lives in mongoeco's in-memory engine:
its SQLite engine refuses a transaction while another session has one open ("active
transaction bound to another session"), which the concurrency tests need.

One fix is applied to mongoeco here, see `end_failed_commits`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading

from mongoeco.session import ClientSession
from mongoeco.wire import AsyncMongoEcoProxyServer


def end_failed_commits() -> None:
    """Make a commit that fails (a write conflict) end its transaction, as MongoDB does.

    mongoeco (4.11) leaves the session inside the failed transaction. PyMongo pools
    server sessions, so the next operation on that session id, a plain read or a new
    transaction, is then served from the dead transaction's snapshot: it sees writes
    that were never committed and misses ones that were.
    """
    commit = ClientSession.commit_transaction

    def commit_or_abort(self: ClientSession) -> None:
        try:
            commit(self)
        except BaseException:
            if self.transaction_active:
                self.abort_transaction()
            raise

    ClientSession.commit_transaction = commit_or_abort  # type: ignore[method-assign]


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    # Blocking reads on a daemon thread: EOF means the parent closed the pipe or died.
    # os.read, not sys.stdin: a thread blocked inside the buffered reader holds its lock
    # and makes the interpreter abort at exit after SIGTERM.
    while os.read(sys.stdin.fileno(), 65536):
        pass
    loop.call_soon_threadsafe(stop.set)


async def serve() -> None:
    end_failed_commits()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    threading.Thread(target=_watch_stdin, args=(loop, stop), daemon=True).start()

    server = AsyncMongoEcoProxyServer(engine=None, host="127.0.0.1", port=0)
    address = await server.start()
    print(address.uri, flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()


if __name__ == "__main__":
    asyncio.run(serve())
