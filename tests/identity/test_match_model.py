"""The match model's rules, on the shipped default model and the default thresholds
(auto 0.9, review 0.1): comparison levels, missing fields, the household caps, and the
model file."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from cdp.identity.comparisons import (
    birth_level,
    compare,
    first_name_level,
    postal_level,
    typed_birth_level,
)
from cdp.identity.match_model import MatchModel, MatchModelError, Scored, load_model
from cdp.identity.model import PersonalData
from cdp.identity.record import MatchRecord, typed_birth_digits
from cdp.identity.training import (
    MIN_HOUSED,
    CannotTrain,
    household_share,
    term_frequencies,
    train_model,
)

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


@pytest.mark.parametrize(
    ("a", "b", "names"),
    [
        # A household: the surname of one faintly like the other's given name.
        (("Barbara", "Dalodeb"), ("Donald", "Dalodeb"), ("different", "exact")),
        (("Jon", "Smith"), ("Smith", "John"), ("exact", "close")),  # swapped, a typo
    ],
)
def test_names_compare_alike_whichever_record_came_first(
    a: tuple[str, str], b: tuple[str, str], names: tuple[str, str]
) -> None:
    first = MatchRecord.of(ada(first_name=a[0], last_name=a[1]))
    second = MatchRecord.of(ada(first_name=b[0], last_name=b[1]))
    assert compare(first, second)[:2] == compare(second, first)[:2] == names


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


def test_an_exact_name_weighs_by_how_common_it_is() -> None:
    model = replace(load_model(), term_frequencies={"first_name": {"ada": 0.0001, "mary": 0.05}})
    levels = compare(MatchRecord.of(ADA), MatchRecord.of(ada(birth_date=None)))
    average = model.u["first_name"]["exact"]
    unseen = model.weight(levels, ("zelda", "lovelace"))
    assert unseen == model.weight(levels)  # a name the model never saw: an average one
    rare = model.weight(levels, ("ada", "lovelace"))
    common = model.weight(levels, ("mary", "lovelace"))
    assert rare - unseen == pytest.approx(math.log2(average / 0.0001))
    assert common - unseen == pytest.approx(math.log2(average / 0.05))
    assert rare > unseen > common
    # Only an exact agreement is weighed by the name: a near spelling weighs as its level.
    nickname = compare(MatchRecord.of(ADA), MatchRecord.of(ada(first_name="Addie")))
    assert model.weight(nickname, ("ada", "lovelace")) == model.weight(nickname)
    # score() weighs the names of its first record, names swapped or not.
    swapped = MatchRecord.of(ada(first_name="Lovelace", last_name="Ada", birth_date=None))
    assert model.score(MatchRecord.of(ADA), swapped).weight == pytest.approx(rare)


def test_term_frequencies_count_names_held_more_than_once() -> None:
    records = [MatchRecord.of(PersonalData(first, "Lee")) for first in ("Ada", "Ada", "Ann", "Bo")]
    records.append(MatchRecord.of(PersonalData(last_name="Lee")))
    assert term_frequencies(records) == {
        "first_name": {"ada": 0.5},  # Ann and Bo, seen once, may be typos
        "last_name": {"lee": 1.0},
    }


def test_term_frequencies_travel_in_the_model_file_and_are_checked() -> None:
    model = replace(load_model(), term_frequencies={"last_name": {"lee": 0.01}})
    assert MatchModel.from_doc(model.to_doc()) == model
    for bad, message in (
        ({"email": {"a@b.c": 0.1}}, "names only"),
        ({"first_name": {"ada": 0.0}}, "must be in"),
    ):
        with pytest.raises(MatchModelError, match=message):
            MatchModel.from_doc({**model.to_doc(), "term_frequencies": bad})


def test_a_surname_given_as_a_first_name_is_as_common_as_the_surname() -> None:
    tables = {"first_name": {"ada": 0.0001}, "last_name": {"lovelace": 0.2, "ada": 0.00001}}
    model = replace(load_model(), term_frequencies=tables)
    levels = compare(MatchRecord.of(ADA), MatchRecord.of(ada(birth_date=None)))
    swapped = model.weight(levels, ("lovelace", "ada")) - model.weight(levels)
    average_first, average_last = (model.u[c]["exact"] for c in ("first_name", "last_name"))
    assert swapped == pytest.approx(
        math.log2(average_first / 0.2) + math.log2(average_last / 0.0001)
    )


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("1970-01-40", "one_digit"),  # a day that no calendar has
        ("1970-13-10", "two_digits"),  # a month that none has: 01 -> 13
        ("19700010", "one_digit"),
        ("1970-00-00", "two_digits"),
        ("1970-31-01", None),  # further off: no evidence either way
    ],
)
def test_a_birth_date_typed_as_no_date_compares_by_its_digits(typed: str, level: str) -> None:
    digits = typed_birth_digits(typed)
    assert digits is not None
    assert typed_birth_level(digits, date(1970, 1, 10)) == level
    record = replace(MatchRecord.of(ada(birth_date=None)), birth_typed=digits)
    assert compare(record, MatchRecord.of(ADA))[2] == level
    assert compare(MatchRecord.of(ADA), record)[2] == level


def test_only_a_date_shaped_text_gives_digits() -> None:
    assert typed_birth_digits(" 1990-13-01 ") == "19901301"
    for text in (None, "", "13/01/1990", "1990-1-1", "unknown"):
        assert typed_birth_digits(text) is None


def test_a_store_without_households_lets_the_weights_decide() -> None:
    # Where next to no record has a family member stored, a replaced given name or birth
    # date is a slip at the till, not a sibling or a junior: no cap holds the weights.
    free = replace(load_model(), household_share=0.004)
    assert not free.guards_households

    def free_score(other: PersonalData) -> Scored:
        return free.score(MatchRecord.of(ADA), MatchRecord.of(other))

    assert free_score(ada(first_name="Mary")).probability >= AUTO
    assert REVIEW <= free_score(ada(birth_date=date(1995, 3, 3))).probability < AUTO
    alone = free_score(ada(birth_date=None))
    assert not alone.names_and_address_only
    assert alone.probability >= AUTO
    # The weights still tell a sibling from the person.
    sibling = ada(first_name="Mary", birth_date=date(1974, 6, 2))
    assert free_score(sibling).probability < REVIEW


@pytest.mark.parametrize("share", [None, 0.01, 0.3])
def test_a_store_with_households_or_not_measured_keeps_the_guards(share: float | None) -> None:
    model = replace(load_model(), household_share=share)
    assert model.guards_households
    scored = model.score(MatchRecord.of(ADA), MatchRecord.of(ada(first_name="Mary")))
    assert REVIEW <= scored.probability < AUTO
    assert model.score(
        MatchRecord.of(ADA), MatchRecord.of(ada(birth_date=None))
    ).names_and_address_only


def test_the_household_share_travels_in_the_model_file_and_is_checked() -> None:
    model = replace(load_model(), household_share=0.004)
    assert MatchModel.from_doc(model.to_doc()) == model
    older = {k: v for k, v in model.to_doc().items() if k != "household_share"}
    assert MatchModel.from_doc(older).household_share is None  # a model from before it
    with pytest.raises(MatchModelError, match="household_share"):
        MatchModel.from_doc({**model.to_doc(), "household_share": 1.5})


def _resident(home: int, first: str, birth: date) -> MatchRecord:
    address = {"postal_code": f"{30000 + home}", "street_address": f"{home + 1} Elm Street"}
    return MatchRecord.of(PersonalData(first, f"Surname{home}", birth_date=birth, **address))


def test_the_household_share_counts_family_members_at_one_address() -> None:
    born = date(1960, 1, 1)
    singles = [_resident(n, "Ada", born + timedelta(days=n)) for n in range(MIN_HOUSED)]
    assert household_share(singles) == (0.0, MIN_HOUSED)
    # Two of a family (another given name and a birth date years apart), and a record
    # with its given name replaced (same birth date): only the family counts.
    family = [
        _resident(0, "Bob", date(1931, 7, 9)),
        _resident(1, "Mary", born + timedelta(days=1)),
    ]
    share, housed = household_share([*singles, *family])
    assert housed == MIN_HOUSED + 2
    assert share == pytest.approx(2 / housed, rel=1e-3)
    # Too few records with an address to tell a store without families from a small one.
    assert household_share(singles[:-1]) == (None, MIN_HOUSED - 1)
    unaddressed = [MatchRecord.of(PersonalData("Ada", "Lee", birth_date=born))] * MIN_HOUSED
    assert household_share(unaddressed) == (None, 0)


def test_records_already_matched_train_no_m_of_their_own() -> None:
    # Each stored pair left is a given name replaced (what resolution could not decide):
    # EM would learn that duplicates differ in their given names.
    born = date(1960, 1, 1)
    singles = [_resident(n, "Ada", born + timedelta(days=n)) for n in range(400)]
    leftovers = [_resident(n, "Mary", born + timedelta(days=n)) for n in range(40)]
    records = [*singles, *leftovers]
    with pytest.raises(CannotTrain, match=r"another first_name in 9[0-9]% of pairs"):
        train_model(records, version="refused", random_pairs=5_000)
    in_use = load_model()
    kept = train_model(records, version="kept", random_pairs=5_000, keep_from=in_use)
    assert (kept.m, kept.prior) == (in_use.m, in_use.prior)
    assert kept.trained["m_and_prior_from"]["version"] == in_use.version
    assert "expected_matches" not in kept.trained
    assert kept.term_frequencies["first_name"] == pytest.approx(
        {"ada": 400 / 440, "mary": 40 / 440}, rel=1e-3
    )


def test_a_store_larger_than_the_training_records_lowers_the_prior() -> None:
    # Two records drawn from a larger store are less likely one person: each person's
    # duplicates do not grow with the store, its pairs do.
    model = load_model()
    trained = model.trained["records"]
    assert model.at_size(trained) is model
    assert model.at_size(10) is model  # a small store is no reason to merge on less
    larger = model.at_size(1_234_567)  # taken as 1,200,000
    assert larger.prior == pytest.approx(model.prior * trained / 1_200_000)
    assert model.at_size(1_290_000) is larger  # one model per two significant digits
    assert larger.at_size(5_000_000).prior == pytest.approx(model.at_size(5_000_000).prior)
    # Names and a birth date alone: sure in a store the size of the training records,
    # less so in one a hundred times larger, a review in one of twelve million.
    namesake = ada(postal_code=None, street_address=None)
    pair = (MatchRecord.of(ADA), MatchRecord.of(namesake))
    sure, less_sure = model.score(*pair).probability, larger.score(*pair).probability
    assert AUTO <= less_sure < sure
    assert REVIEW <= model.at_size(12_345_678).score(*pair).probability < AUTO
    # A model that does not say what it was trained on stays as it is.
    untold = replace(model, trained={})
    assert untold.at_size(1_234_567) is untold
