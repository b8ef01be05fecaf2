"""The wheel (and so the image, which installs it) carries every file the service reads
at run time: the demo program, the demo pages, the vendored GraphiQL."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the Dockerfile copies into its build stage.
SOURCES = ["pyproject.toml", "README.md", "cdp", "graphql_schema", "resolvers"]
# Folders of files that are not Python but are read at run time.
DATA = ["cdp/loyalty", "cdp/identity", "graphql_schema/static"]


def built_wheel(into: Path) -> set[str]:
    """The names in a wheel built from a clean copy of the sources (a build/ folder left
    in the tree by an earlier build would hide what the package data leaves out)."""
    source = into / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(into),
            str(source),
        ],
        check=True,
    )
    (wheel,) = into.glob("cdp-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def test_the_wheel_holds_every_data_file(tmp_path: Path) -> None:
    packed = built_wheel(tmp_path)
    shipped = {
        path.relative_to(ROOT).as_posix()
        for folder in DATA
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts
    }

    assert "graphql_schema/static/graphiql/graphiql.min.js" in shipped
    assert shipped - packed == set()
