"""The systems a change can come from; one vocabulary across every area."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    POS = "POS"
    ECOMMERCE = "ECOMMERCE"
    MOBILE_APP = "MOBILE_APP"
    KIOSK = "KIOSK"
    CALL_CENTER = "CALL_CENTER"
    MARKETPLACE = "MARKETPLACE"
    CRM = "CRM"
    IMPORT = "IMPORT"
    ADMIN = "ADMIN"
