"""What text we accept from outside: no control characters but tab and line breaks, and
no bidirectional-formatting characters, which make a name or an email read differently
on screen from what is stored (U+202E turns "moc.liame@" around); and nested JSON no
deeper than `MAX_NESTING` (stores and encoders stop somewhere near 100 to 250 levels,
and a document that deep is no one's profile attribute)."""

from __future__ import annotations

import re

from cdp.errors import BadInput

_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # C0 controls but tab, line feed, carriage return; DEL
    "\u061c\u200e\u200f"  # Arabic letter mark, left-to-right and right-to-left marks
    "\u202a-\u202e\u2066-\u2069]"  # bidirectional embeddings, overrides and isolates
)
MAX_NESTING = 32


def unsafe_character(text: str) -> str | None:
    """The first character we refuse in `text`, as U+XXXX; None when there is none."""
    found = _UNSAFE.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def require_plain_text(name: str, text: str) -> None:
    """BadInput when `text` holds a character we refuse."""
    character = unsafe_character(text)
    if character is not None:
        raise BadInput(f"{name} contains {character}, a control or bidirectional character")


def require_plain_value(name: str, value: object, depth: int = 0) -> None:
    """`require_plain_text` for every string (and key) of a JSON value, and BadInput when
    it nests deeper than MAX_NESTING."""
    if isinstance(value, str):
        require_plain_text(name, value)
        return
    if not isinstance(value, dict | list):
        return
    if depth >= MAX_NESTING:
        raise BadInput(f"{name} nests deeper than {MAX_NESTING} levels")
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(key, str):
            require_plain_text(name, key)
        require_plain_value(name, item, depth + 1)
