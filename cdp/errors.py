"""Domain errors. Each carries the stable code the API reports in `extensions.code`."""

from __future__ import annotations


class DomainError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class BadInput(DomainError):
    code = "BAD_USER_INPUT"


class Conflict(DomainError):
    code = "CONFLICT"


class InsufficientPoints(DomainError):
    code = "INSUFFICIENT_POINTS"


class NotRedeemable(DomainError):
    code = "NOT_REDEEMABLE"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


class Unavailable(DomainError):
    code = "UNAVAILABLE"
