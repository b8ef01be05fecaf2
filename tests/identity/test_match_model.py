"""The match model's rules, on the shipped default model and the default thresholds
(auto 0.9, review 0.1): comparison levels, missing fields, the household caps, and the
model file."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from cdp.identity.comparisons import birth_level, compare, first_name_level, postal_level
from cdp.identity.match_model import MatchModelError, load_model
from cdp.identity.model import PersonalData
from cdp.identity.record import MatchRecord

from .support import AUTO, REVIEW

ADA = PersonalData(
    first_name="Ada",
    last_name="Lovelace",
    postal_code="94100",
    birth_date=date(1970, 1, 10),
    street_address="1 Main Street",
)


def score(a: PersonalData, b: PersonalData) -> float:
    return load_model().score(MatchRecord.of(a), MatchRecord.of(b))[0]


def ada(**changes: object) -> PersonalData:
    return replace(ADA, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        (date(1970, 1, 10), "exact"),
        (date(1970, 1, 11), "one_digit"),
        (date(1907, 1, 10), "one_digit"),  # two adjacent digits swapped
        (date(1971, 1, 12), "two_digits"),
        (date(1970, 10, 1), "two_digits"),  # day and month swapped
        (date(1985, 6, 3), "different"),
    ],
)
def test_birth_date_levels(typed: date, level: str) -> None:
    assert birth_level(date(1970, 1, 10), typed) == level


@pytest.mark.parametrize(
    ("x", "y", "level"),
    [
        ("bob", "robert", "nickname"),
        ("ann", "anm", "similar"),  # a short name's typo, low on Jaro-Winkler
        ("jon", "joe", "similar"),
        ("jonathan", "jonathon", "close"),
        ("ann", "mary", "different"),
    ],
)
def test_given_name_levels(x: str, y: str, level: str) -> None:
    assert first_name_level(x, y) == level


def test_transposed_postal_digits_are_a_typo_not_another_place() -> None:
    assert postal_level("94100", "04190") == "different"  # not adjacent
    assert postal_level("94100", "91400") == "typo"


def test_swapped_names_compare_as_names() -> None:
    levels = compare(
        MatchRecord.of(ADA), MatchRecord.of(ada(first_name="Lovelace", last_name="Ada"))
    )
    assert levels[:2] == ("exact", "exact")


def test_a_missing_field_is_no_evidence_either_way() -> None:
    model = load_model()
    full = model.weight(compare(MatchRecord.of(ADA), MatchRecord.of(ADA)))
    undated = model.weight(compare(MatchRecord.of(ADA), MatchRecord.of(ada(birth_date=None))))
    birth = model.m["birth_date"]["exact"] / model.u["birth_date"]["exact"]
    assert full - undated == pytest.approx(math.log2(birth))
    assert undated > model.weight((None,) * 6)  # what is there still counts


def test_the_same_person_with_a_date_typo_or_a_moved_address_merges() -> None:
    assert score(ADA, ada(birth_date=date(1970, 1, 11))) >= AUTO
    assert score(ADA, ada(postal_code="10001", street_address="9 Elm Road")) >= AUTO
    assert score(ADA, ada(postal_code="91400", street_address=None)) >= AUTO


def test_a_replaced_name_with_birth_date_and_address_agreeing_goes_to_review() -> None:
    assert REVIEW <= score(ADA, ada(first_name="Mary")) < AUTO


def test_a_replaced_family_name_with_everything_else_agreeing_merges() -> None:
    assert score(ADA, ada(last_name="Byron")) >= AUTO


def test_household_members_are_not_even_reviewed() -> None:
    sibling = ada(first_name="Mary", birth_date=date(1974, 6, 2))
    assert score(ADA, sibling) < REVIEW


def test_twins_go_to_review_not_to_a_merge() -> None:
    assert REVIEW <= score(ADA, ada(first_name="Anne")) < AUTO  # Ada and Anne: one birthday


def test_names_and_address_alone_are_marked_for_resolution_to_decide() -> None:
    # A father and his son at one address look the same when a date is missing: the
    # pair is marked, and resolution caps it (test_resolution.py) unless configured.
    model = load_model()
    alone = model.score(MatchRecord.of(ADA), MatchRecord.of(ada(birth_date=None)))
    assert alone.names_and_address_only
    assert alone.probability >= AUTO  # what the weights alone say
    assert score(ADA, ada(birth_date=date(1995, 3, 3))) < REVIEW
    # A name missing or unlike leaves the address alone: review at most, always.
    for other in (ada(birth_date=None, first_name=None), ada(birth_date=None, last_name="X")):
        scored = model.score(MatchRecord.of(ADA), MatchRecord.of(other))
        assert not scored.names_and_address_only
        assert scored.probability < AUTO


def test_a_member_of_the_household_is_recognised() -> None:
    model = load_model()
    sibling = model.score(MatchRecord.of(ADA), MatchRecord.of(ada(first_name="Mary")))
    assert sibling.household_member
    moved = ada(first_name="Mary", postal_code="10001", street_address="9 Elm Road")
    assert not model.score(MatchRecord.of(ADA), MatchRecord.of(moved)).household_member
    assert not model.score(MatchRecord.of(ADA), MatchRecord.of(ADA)).household_member


def test_an_email_both_hold_confirms_a_record_without_a_birth_date() -> None:
    a, b = ada(email="ada@example.com"), ada(birth_date=None, email="ada@example.com")
    assert score(a, b) >= AUTO


def test_a_model_file_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    doc = load_model().to_doc()
    del doc["comparisons"]["birth_date"]["one_digit"]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(MatchModelError, match="birth_date needs levels"):
        load_model(path)
    path.write_text(json.dumps({**load_model().to_doc(), "format": "other/9"}))
    with pytest.raises(MatchModelError, match="not a match model"):
        load_model.__wrapped__(path)
