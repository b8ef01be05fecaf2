"""The version of the stored document shapes.

Every profile and lot document carries `schema`: the shape it was written in. A profile
without one was written before lots had a collection of their own (schema 1, its lots
inside it); `cdp migrate` (`cdp.migrations`) brings such a store to this version.
"""

from __future__ import annotations

SCHEMA_VERSION = 2
