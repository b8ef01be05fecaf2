"""`cdp identity train` and `cdp identity rekey`: the match model and the blocking keys."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from cdp.cli_identity import PLAIN, progress_bar
from cdp.cli_support import err, out, run_with_runtime
from cdp.identity.importer import ImportFileError, file_format, read_records
from cdp.identity.match_model import MatchModel, model_of, save_model
from cdp.identity.profile_repository import KEYED, count_profiles, stored_records
from cdp.identity.record import MatchRecord
from cdp.identity.rekey import rekey_profiles
from cdp.identity.training import MIN_HOUSED, CannotTrain, train_model
from cdp.identity.training_file import file_match_records
from cdp.runtime import Runtime

identity_app = typer.Typer(no_args_is_help=True, help="The match model and blocking keys.")


@identity_app.command("train")
def train(
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write (JSON).")],
    version: Annotated[
        str | None, typer.Option(help="Version to record (default: the time, UTC).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random pairs u is estimated from.")] = 0,
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="An import file (CSV or JSONL) to train on instead of the stored profiles: "
            "before an import, every duplicate it holds is there to learn from.",
        ),
    ] = None,
    format_: Annotated[
        str | None, typer.Option("--format", help="csv or jsonl (default: from the suffix).")
    ] = None,
) -> None:
    """Estimate match weights from the stored profiles, or from a file about to be
    imported (u from random pairs, m by EM), and write a model file; point
    CDP_MATCH_MODEL_FILE at it to use it. Records already matched keep the m and prior
    of the model in use (their duplicates left are only the hard ones)."""
    read = _stored
    if source is not None:
        try:
            fmt = file_format(source, format_)
            source.stat()
        except (ImportFileError, OSError) as exc:
            err.print(f"cannot train on {source}: {exc}", **PLAIN)
            raise typer.Exit(2) from None
        read = functools.partial(_from_file, source=source, fmt=fmt)

    async def work(rt: Runtime) -> MatchModel | None:
        records = await read(rt)
        stamp = version or rt.clock.now().strftime("%Y%m%dT%H%M%SZ")
        try:
            return train_model(records, version=stamp, seed=seed, keep_from=model_of(rt.settings))
        except CannotTrain as exc:
            err.print(f"cannot train: {exc}", **PLAIN)
            return None

    model = run_with_runtime(work)
    if model is None:
        raise typer.Exit(1)
    save_model(model, output)
    trained = model.trained
    kept = trained.get("m_and_prior_from")
    estimated = (
        f"m and prior {model.prior:.3g} kept from model {kept['version']}"
        if kept
        else f"{trained['expected_matches']} duplicate pairs expected, prior {model.prior:.3g}"
    )
    out.print(
        f"model {model.version} written to {output}: {trained['records']} records, {estimated}",
        **PLAIN,
    )
    out.print(_households(model), **PLAIN)
    if kept:
        out.print(
            f"m kept: {kept['because']}. u, names' shares and households are these "
            "records'; for m of your own, train --from an import file before importing it",
            **PLAIN,
        )


async def _stored(rt: Runtime) -> list[MatchRecord]:
    total = await count_profiles(rt.store, KEYED)
    with progress_bar() as progress:
        task = progress.add_task("reading profiles", total=total)
        return await stored_records(
            rt.store, rt.settings.denylist, on_page=lambda n: progress.advance(task, n)
        )


async def _from_file(rt: Runtime, *, source: Path, fmt: str) -> list[MatchRecord]:
    """The file's records; exit code 2 when it cannot be read at all (as `cdp import`)."""
    settings = rt.settings
    try:
        with source.open(encoding="utf-8-sig", newline="") as lines:
            read = file_match_records(
                read_records(lines, fmt),
                default_region=settings.default_region,
                denylist=settings.denylist,
                today=rt.clock.now().date(),
            )
    except (ImportFileError, OSError, UnicodeDecodeError) as exc:
        err.print(f"cannot train on {source}: {exc}", **PLAIN)
        raise typer.Exit(2) from None
    if read.bad:
        err.print(f"{read.bad} records the import would refuse were left out", **PLAIN)
    return read.records


def _households(model: MatchModel) -> str:
    """What the store's households mean for matching, in a line."""
    if model.household_share is None:
        housed = model.trained.get("records_with_address", 0)
        return (
            f"households: {housed} records with an address, too few to tell "
            f"(at least {MIN_HOUSED:,} needed); household guards on"
        )
    share = f"{model.household_share:.2%} of records with an address have a household member"
    if model.guards_households:
        return f"households: {share}; household guards on (siblings and juniors go to review)"
    return f"households: {share}; household guards off (the weights decide alone)"


@identity_app.command("rekey")
def rekey() -> None:
    """Rebuild every profile's blocking keys under the current rules (run after an
    upgrade that changed them; running it again changes nothing)."""

    async def work(rt: Runtime) -> int:
        total = await count_profiles(rt.store, KEYED)
        with progress_bar() as progress:
            task = progress.add_task("rekeying profiles", total=total)
            return await rekey_profiles(rt, on_page=lambda n: progress.advance(task, n))

    out.print(f"keys changed: {run_with_runtime(work)}", **PLAIN)
