"""Text from outside is plain: NUL, other control characters and bidirectional-formatting
characters are refused (BAD_USER_INPUT) in names, emails and every other string, and so
are JSON values nested past `MAX_NESTING`; a refused request changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from cdp.auth.service import list_api_keys
from cdp.runtime import Runtime
from cdp.store.catalogue import PROFILES
from cdp.store.port import Query
from cdp.text import MAX_NESTING

from .helpers import Gql, codes

ENROLL = """
mutation ($profile: ProfileInput!) {
  enroll(input: {channel: POS, profile: $profile}) { profile { id firstName } }
}
"""
PERSON = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "phone": "+14155550100",
}
REFUSED = {
    "NUL": "\x00",
    "BEL": "\x07",
    "ESC": "\x1b",
    "DEL": "\x7f",
    "RLO": "\u202e",
    "LRE": "\u202a",
    "RLI": "\u2067",
    "PDI": "\u2069",
    "LRM": "\u200e",
    "RLM": "\u200f",
}


async def stored_profiles(rt: Runtime) -> int:
    return len(await rt.store.find(Query(PROFILES, {})))


async def stored_attributes(rt: Runtime) -> Any:
    (doc,) = await rt.store.find(Query(PROFILES, {}))
    return doc["personal"]["attributes"]


def nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"inner": value}
    return value


@pytest.mark.parametrize("character", REFUSED.values(), ids=REFUSED.keys())
@pytest.mark.parametrize("field", ["firstName", "lastName", "email"])
async def test_control_and_bidi_characters_in_personal_data_are_refused(
    rt: Runtime, gql: Gql, field: str, character: str
) -> None:
    value = PERSON[field]
    person = {**PERSON, field: value[:2] + character + value[2:]}

    body = await gql(ENROLL, {"profile": person})

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == (
        f"variable $profile contains U+{ord(character):04X}, a control or bidirectional character"
    )
    assert await stored_profiles(rt) == 0


async def test_a_bidi_override_written_in_the_document_is_refused(rt: Runtime, gql: Gql) -> None:
    document = (
        'mutation { enroll(input: {channel: POS, profile: {firstName: "Ada", '
        'lastName: "Lovelace", email: "ada\\u202E@example.com", phone: "+14155550100"}}) '
        "{ profile { id } } }"
    )

    body = await gql(document)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == (
        "a string contains U+202E, a control or bidirectional character"
    )
    assert await stored_profiles(rt) == 0


async def test_other_free_text_is_refused_too(rt: Runtime, gql: Gql) -> None:
    body = await gql(
        'mutation ($name: String!) { createApiKey(name: $name, scopes: ["pos"]) { id } }',
        {"name": "store 42\x00 tills"},
    )

    assert codes(body) == ["BAD_USER_INPUT"]
    assert await list_api_keys(rt) == []


async def test_tabs_and_line_breaks_are_plain_text(rt: Runtime, gql: Gql) -> None:
    note = {"note": "first line\nsecond line\r\n\tindented"}

    body = await gql(ENROLL, {"profile": {**PERSON, "attributes": note}})

    assert "errors" not in body
    assert await stored_attributes(rt) == note


@pytest.mark.parametrize("levels", [MAX_NESTING + 1, 260, 600])
async def test_json_variables_nested_too_deep_are_refused(
    rt: Runtime, gql: Gql, levels: int
) -> None:
    body = await gql(ENROLL, {"profile": {**PERSON, "attributes": nested(levels)}})

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == (
        f"variable $profile nests deeper than {MAX_NESTING} levels"
    )
    assert await stored_profiles(rt) == 0


async def test_json_nested_as_deep_as_allowed_is_stored(rt: Runtime, gql: Gql) -> None:
    # the profile input is one level, attributes one more: MAX_NESTING in all
    attributes = nested(MAX_NESTING - 2)

    body = await gql(ENROLL, {"profile": {**PERSON, "attributes": attributes}})

    assert "errors" not in body
    assert await stored_attributes(rt) == attributes


@pytest.mark.parametrize("levels", [MAX_NESTING + 1, 300])
async def test_input_literals_nested_too_deep_are_refused(
    rt: Runtime, gql: Gql, levels: int
) -> None:
    literal = "{a: " * levels + "1" + "}" * levels
    document = (
        'mutation { enroll(input: {channel: POS, profile: {firstName: "Ada", '
        'lastName: "Lovelace", email: "ada@example.com", phone: "+14155550100", '
        f"attributes: {literal}}}}}) {{ profile {{ id }} }} }}"
    )

    body = await gql(document)

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert await stored_profiles(rt) == 0
