"""When a profile counts as complete, and what completing it earns.

Required fields (configurable) decide enrollment: an ALLOCATED profile whose required
fields become complete is enrolled on the spot (method AUTO). Completion adds postal
code and birth date: a complete profile earns the program's completion bonus, once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from cdp.channel import Channel
from cdp.identity.model import (
    Enrollment,
    EnrollmentMethod,
    PersonalData,
    Profile,
    ProfileStatus,
)
from cdp.loyalty.model import LedgerEntryType
from cdp.loyalty.posting import Posting
from cdp.loyalty.program import Program

COMPLETION_EXTRAS = ("postal_code", "birth_date")
ENROLLMENT_BONUS = "enrollment"
COMPLETION_BONUS = "profile_completion"


def contract_name(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def missing(personal: PersonalData, fields: tuple[str, ...]) -> list[str]:
    """Contract names (firstName, ...) of the fields still empty."""
    return [contract_name(f) for f in fields if getattr(personal, f) in (None, "")]


def completion_fields(required: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*required, *COMPLETION_EXTRAS)))


def grant_once(posting: Posting, bonus: str, points: int) -> None:
    """Credit a program bonus unless this member already had it."""
    if bonus in posting.bonuses_granted:
        return
    posting.bonuses_granted.append(bonus)
    posting.earn(
        LedgerEntryType.BONUS,
        points,
        earned_at=posting.now,
        pending=False,
        qualifying=False,
        reason=bonus.replace("_", " ") + " bonus",
    )


def enrolled(profile: Profile, method: EnrollmentMethod, channel: Channel, at: datetime) -> Profile:
    """The profile as ENROLLED (keeping a first enrollment's method and date)."""
    if profile.status is ProfileStatus.ENROLLED:
        return profile
    return replace(
        profile,
        status=ProfileStatus.ENROLLED,
        enrollment=Enrollment(method, channel, at),
    )


def apply_completion(
    profile: Profile,
    posting: Posting,
    *,
    program: Program,
    required: tuple[str, ...],
    channel: Channel,
    enrolling: bool = False,
) -> tuple[Profile, bool]:
    """Auto-enroll when the required fields are complete; grant the bonuses that are due.

    The enrollment bonus goes with the act of enrolling (`enrolling`, or an auto-enrollment
    here); the completion bonus with a complete, enrolled profile. Returns the profile and
    whether this call auto-enrolled it.
    """
    newly_enrolled = False
    if profile.status is ProfileStatus.ALLOCATED and not missing(profile.personal, required):
        profile = enrolled(profile, EnrollmentMethod.AUTO, channel, posting.now)
        newly_enrolled = True
    if newly_enrolled or enrolling:
        grant_once(posting, ENROLLMENT_BONUS, program.enrollment_bonus)
    if profile.status is ProfileStatus.ENROLLED and not missing(
        profile.personal, completion_fields(required)
    ):
        grant_once(posting, COMPLETION_BONUS, program.profile_completion_bonus)
    return profile, newly_enrolled
