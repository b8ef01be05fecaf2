"""`cdp identity train` and `cdp identity rekey`: the match model and the blocking keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cdp.cli_identity import PLAIN, progress_bar
from cdp.cli_support import err, out, run_with_runtime
from cdp.identity.match_model import MatchModel, save_model
from cdp.identity.profile_repository import KEYED, count_profiles, stored_records
from cdp.identity.rekey import rekey_profiles
from cdp.identity.training import NotEnoughData, train_model
from cdp.runtime import Runtime

identity_app = typer.Typer(no_args_is_help=True, help="The match model and blocking keys.")


@identity_app.command("train")
def train(
    output: Annotated[Path, typer.Option("--output", "-o", help="Model file to write (JSON).")],
    version: Annotated[
        str | None, typer.Option(help="Version to record (default: the time, UTC).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the random pairs u is estimated from.")] = 0,
) -> None:
    """Estimate match weights from the stored profiles (u from random pairs, m by EM) and
    write a model file; point CDP_MATCH_MODEL_FILE at it to use it."""

    async def work(rt: Runtime) -> MatchModel | None:
        total = await count_profiles(rt.store, KEYED)
        with progress_bar() as progress:
            task = progress.add_task("reading profiles", total=total)
            records = await stored_records(
                rt.store, rt.settings.denylist, on_page=lambda n: progress.advance(task, n)
            )
        stamp = version or rt.clock.now().strftime("%Y%m%dT%H%M%SZ")
        try:
            return train_model(records, version=stamp, seed=seed)
        except NotEnoughData as exc:
            err.print(f"cannot train: {exc}", **PLAIN)
            return None

    model = run_with_runtime(work)
    if model is None:
        raise typer.Exit(1)
    save_model(model, output)
    trained = model.trained
    out.print(
        f"model {model.version} written to {output}: {trained['records']} records, "
        f"{trained['expected_matches']} duplicate pairs expected, prior {model.prior:.3g}",
        **PLAIN,
    )


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
