"""Commands over many profiles at once: import, export, and the duplicate audit."""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cdp.cli_support import err, out, run_with_runtime
from cdp.identity.duplicates import (
    Applied,
    DuplicatePair,
    PairDecision,
    apply_pair,
    find_duplicates,
)
from cdp.identity.exporter import export_profiles
from cdp.identity.importer import (
    BadRow,
    Imported,
    ImportFileError,
    RowOutcome,
    count_records,
    file_format,
    import_records,
    read_records,
)
from cdp.identity.model import ProfileStatus
from cdp.identity.profile_repository import LIVE, count_profiles
from cdp.runtime import Runtime

audit_app = typer.Typer(no_args_is_help=True, help="Audits of the stored profiles.")
PAIR_COLUMNS = ("profile_a", "profile_b", "score", "decision", "matched_on")
# Reports hold names, paths and values from files: never styled, never folded.
PLAIN: dict[str, Any] = {"highlight": False, "markup": False, "soft_wrap": True}


def register(app: typer.Typer) -> None:
    """Add `import`, `export` and `audit` to the `cdp` command."""
    app.command("import")(import_file)
    app.command("export")(export_file)
    app.add_typer(audit_app, name="audit")


def progress_bar() -> Progress:
    """On stderr, so what a command writes to stdout stays clean for a pipe; only on a
    terminal, so logs and CI output hold just the report."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@contextmanager
def _opened(output: Path | None) -> Iterator[TextIO]:
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def import_file(
    file: Annotated[Path, typer.Argument(help="CSV with a header, or JSONL (docs/identity.md).")],
    format_: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl (default: from the suffix).")
    ] = None,
) -> None:
    """Import members: each record is resolved like an enrollment; a second run adds nothing.

    Bad records are reported by line number and skipped; the exit code is 1 if there were any.
    A birth date that is no date is dropped and reported; the record is imported without it.
    """
    try:
        fmt = file_format(file, format_)
        total = count_records(file, fmt)
    except (ImportFileError, OSError) as exc:
        err.print(f"cannot import {file}: {exc}", **PLAIN)
        raise typer.Exit(2) from None

    async def work(rt: Runtime) -> int:
        with progress_bar() as progress, file.open(encoding="utf-8-sig", newline="") as source:
            task = progress.add_task(f"importing {file.name}", total=total)

            def on_record(record: Imported | BadRow) -> None:
                reasons = [record.reason] if isinstance(record, BadRow) else record.dropped
                for reason in reasons:
                    progress.console.print(f"line {record.line}: {reason}", **PLAIN)
                progress.advance(task)

            try:
                report = await import_records(rt, read_records(source, fmt), on_record=on_record)
            except ImportFileError as exc:
                err.print(f"cannot import {file}: {exc}", **PLAIN)
                return 2
        counts = report.outcomes
        out.print(
            f"records: {report.rows}, created: {counts[RowOutcome.CREATED]}, "
            f"created for review: {counts[RowOutcome.REVIEW]}, "
            f"added to existing profiles: {counts[RowOutcome.UPDATED]}, "
            f"already known: {counts[RowOutcome.UNCHANGED]}, bad: {len(report.bad)}, "
            f"fields dropped: {report.dropped_fields}",
            **PLAIN,
        )
        return 1 if report.bad else 0

    code = run_with_runtime(work)
    if code:
        raise typer.Exit(code)


def export_file(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Merged and forgotten profiles too (default: live).")
    ] = False,
) -> None:
    """Write one JSON line per profile: status, personal data, identifiers, balance."""
    statuses = frozenset(ProfileStatus) if all_ else LIVE

    async def work(rt: Runtime) -> int:
        total = await count_profiles(rt.store, statuses)
        with _opened(output) as handle, progress_bar() as progress:
            task = progress.add_task("exporting", total=total)
            return await export_profiles(
                rt.store,
                handle.write,
                statuses=statuses,
                on_profile=lambda: progress.advance(task),
            )

    written = run_with_runtime(work)
    if output is not None:
        out.print(f"profiles written to {output}: {written}", **PLAIN)


def _pair_writer(handle: TextIO, fmt: str) -> Callable[[DuplicatePair], None]:
    if fmt == "jsonl":

        def write_line(pair: DuplicatePair) -> None:
            handle.write(json.dumps(pair.to_doc()) + "\n")

        return write_line
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(PAIR_COLUMNS)

    def write_row(pair: DuplicatePair) -> None:
        writer.writerow(
            [pair.profile_a, pair.profile_b, f"{pair.score:.4f}", pair.decision.value,
             ";".join(pair.matched_on)]
        )  # fmt: skip

    return write_row


@audit_app.command("duplicates")
def audit_duplicates(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    format_: Annotated[
        str | None,
        typer.Option("--format", help="csv or jsonl (default: from the suffix, else jsonl)."),
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Merge the auto pairs; open review items for the rest.")
    ] = False,
) -> None:
    """Find look-alike pairs among the stored profiles (profile_a, profile_b, score,
    decision, matched_on); decision is auto, review or kept_separate."""
    fmt = format_ or ("csv" if output is not None and output.suffix.lower() == ".csv" else "jsonl")
    if fmt not in ("csv", "jsonl"):
        err.print(f"unknown format {fmt!r}; known: csv, jsonl", **PLAIN)
        raise typer.Exit(2)

    async def work(rt: Runtime) -> tuple[Counter[PairDecision], Counter[Applied]]:
        found: list[DuplicatePair] = []
        total = await count_profiles(rt.store)
        with _opened(output) as handle, progress_bar() as progress:
            write = _pair_writer(handle, fmt)
            task = progress.add_task("scanning profiles", total=total)
            async for pair in find_duplicates(rt, on_page=lambda n: progress.advance(task, n)):
                write(pair)
                found.append(pair)
        applied: Counter[Applied] = Counter()
        if apply:
            with progress_bar() as progress:
                task = progress.add_task("applying", total=len(found))
                for pair in found:
                    applied[await apply_pair(rt, pair)] += 1
                    progress.advance(task)
        return Counter(p.decision for p in found), applied

    decisions, applied = run_with_runtime(work)
    report = err if output is None else out
    report.print(
        f"pairs: {decisions.total()}, auto: {decisions[PairDecision.AUTO]}, "
        f"review: {decisions[PairDecision.REVIEW]}, "
        f"kept separate: {decisions[PairDecision.KEPT_SEPARATE]}",
        **PLAIN,
    )
    if apply:
        report.print(
            f"merged: {applied[Applied.MERGED]}, "
            f"review items opened: {applied[Applied.REVIEW_OPENED]}, "
            f"skipped: {applied[Applied.SKIPPED]}",
            **PLAIN,
        )
