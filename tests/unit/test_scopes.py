"""Scope names and surface presets, and what a caller holding them may do."""

from __future__ import annotations

import pytest

from cdp.auth.model import PRESETS, Caller, Scope, channel_of, expand_scopes
from cdp.channel import Channel

READ = {Scope.PROFILES_READ, Scope.LOYALTY_READ}
SHOP = READ | {Scope.PROFILES_WRITE, Scope.LOYALTY_WRITE, Scope.EVENTS_WRITE}


@pytest.mark.parametrize(
    ("names", "scopes"),
    [
        (["pos"], SHOP),
        (["ecommerce"], SHOP),
        (["app"], SHOP),
        (["kiosk"], READ | {Scope.PROFILES_WRITE}),
        (["crm"], READ | {Scope.PROFILES_WRITE, Scope.EVENTS_WRITE}),
        (["admin"], {Scope.ADMIN}),
        (["profiles:read"], {Scope.PROFILES_READ}),
        (["kiosk", "loyalty:write"], READ | {Scope.PROFILES_WRITE, Scope.LOYALTY_WRITE}),
        (["pos", "pos", "profiles:read"], SHOP),
        ([], set()),
    ],
)
def test_expand_scopes(names: list[str], scopes: set[Scope]) -> None:
    assert expand_scopes(names) == frozenset(scopes)


def test_every_scope_name_expands_to_itself() -> None:
    for scope in Scope:
        assert expand_scopes([scope.value]) == frozenset({scope})


@pytest.mark.parametrize("name", ["superuser", "POS", "profiles:READ", " pos", ""])
def test_unknown_scope_is_a_value_error_naming_it(name: str) -> None:
    with pytest.raises(ValueError, match=f"^unknown scope {name!r}; known: pos, ") as refused:
        expand_scopes(["pos", name])

    assert "keys:admin" in str(refused.value)


def test_presets_never_grant_key_administration() -> None:
    surface_presets = {name: scopes for name, scopes in PRESETS.items() if name != "admin"}

    assert all(Scope.KEYS_ADMIN not in scopes for scopes in surface_presets.values())
    assert all(Scope.ADMIN not in scopes for scopes in surface_presets.values())


@pytest.mark.parametrize(
    ("names", "channel"),
    [
        (["pos"], Channel.POS),
        (["ecommerce"], Channel.ECOMMERCE),
        (["app"], Channel.MOBILE_APP),
        (["kiosk"], Channel.KIOSK),
        (["crm"], Channel.CRM),
        (["admin"], Channel.ADMIN),
        (["profiles:read"], Channel.ADMIN),
        (["profiles:read", "kiosk", "pos"], Channel.KIOSK),  # the first surface preset
    ],
)
def test_channel_of_a_key(names: list[str], channel: Channel) -> None:
    assert channel_of(names) == channel


def test_admin_scope_allows_everything() -> None:
    admin = Caller("k", "admin", frozenset({Scope.ADMIN}), Channel.ADMIN)

    assert all(admin.allows(scope) for scope in Scope)


def test_caller_allows_only_the_scopes_it_holds() -> None:
    kiosk = Caller("k", "kiosk", expand_scopes(["kiosk"]), Channel.KIOSK)

    assert {scope for scope in Scope if kiosk.allows(scope)} == READ | {Scope.PROFILES_WRITE}
