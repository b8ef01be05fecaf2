"""Invariant 8 on the identity mutations: a stable code, and nothing changed.

Each case runs beside two members (person 0, and person 1 who holds Grace Hopper's email)
and checks after the refusal that both are unchanged and no other profile appeared.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import KeyFactory, codes

from .support import ENROLL, MERGE, SEARCH, UPDATE, Api, Json, person


def enroll_input(**changes: Any) -> Json:
    return {"input": {"channel": "POS", "profile": person(1, **changes)}}


CASES = [
    (ENROLL, enroll_input(email="not-an-email"), "BAD_USER_INPUT"),
    (ENROLL, enroll_input(phone="call me"), "BAD_USER_INPUT"),
    (ENROLL, enroll_input(birthDate="2999-01-01"), "BAD_USER_INPUT"),
    (ENROLL, enroll_input(firstName="x" * 101), "BAD_USER_INPUT"),
    (ENROLL, enroll_input(attributes=["not", "an", "object"]), "BAD_USER_INPUT"),
    (UPDATE, {"id": "MEMBER", "input": {"email": "grace.hopper@example.com"}}, "CONFLICT"),
    (UPDATE, {"id": "MEMBER", "input": {"phone": "12345"}}, "BAD_USER_INPUT"),
    (UPDATE, {"id": "p_00000000000000000000", "input": {"firstName": "X"}}, "NOT_FOUND"),
    (SEARCH, {}, "BAD_USER_INPUT"),
]


@pytest.mark.parametrize(("document", "variables", "code"), CASES)
async def test_refused_with_a_stable_code_and_nothing_changed(
    api: Api, document: str, variables: Json, code: str
) -> None:
    member = await api.member(0)
    holder = await api.member(1)  # holds grace.hopper@example.com
    variables = {k: member["id"] if v == "MEMBER" else v for k, v in variables.items()}

    body = await api.call(document, variables)

    assert codes(body) == [code]
    assert await api.profile(member["id"]) == member
    assert await api.profile(holder["id"]) == holder
    # Person 1 was refused: the only Grace Hopper is the holder.
    others = await api.search(firstName="Grace", lastName="Hopper", postalCode="94101")
    assert [m["profile"]["id"] for m in others] == [holder["id"]]


async def test_a_surface_key_cannot_merge(api: Api, make_key: KeyFactory) -> None:
    a = await api.member(0)
    b = await api.member(1)

    body = await api.call(
        MERGE, {"survivorId": a["id"], "mergedId": b["id"]}, await make_key("pos")
    )

    assert codes(body) == ["FORBIDDEN"]
    assert await api.profile(b["id"]) == b
