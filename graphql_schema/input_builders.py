"""Input objects built from a plan made once per input type, not worked out per value.

For every field of every input value, Strawberry's `convert_argument` works out again
the field's GraphQL name and its resolved type (annotation lookups and a dozen
isinstance checks a field): about 190 us for one `recordPurchase` input, a tenth of the
mutation. `from_input` is Strawberry's documented hook for a type that builds its own
value from the input (what `strawberry.pydantic` uses). `use_input_builders` sets it on
the schema's input types with a builder that does Strawberry's conversion from a plan:
per field, its GraphQL name, its Python name, and how to convert its value, decided
once from the resolved type.

The conversion is Strawberry's: nulls and UNSET pass through, lists are copied, scalars
and enums are taken as graphql-core coerced them, nested inputs are built the same way,
fields without a default start as None. A type the plan does not cover (a `Maybe`
field, which the hook would also exempt from Strawberry's null check; a `GlobalID`; an
input with a hook of its own, or one reaching such a type) keeps Strawberry's own
conversion.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import strawberry
from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.config import StrawberryConfig
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    StrawberryType,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

# Converts one field's value (never None or UNSET: those pass through as they are).
Convert = Callable[[Any, InputContext], Any]
# A field's plan: GraphQL name, Python name, and its converter (None: taken as it is).
FieldPlan = tuple[str, str, Convert | None]


class Unplanned(Exception):
    """A type the builders leave to Strawberry."""


def use_input_builders(schema: strawberry.Schema) -> None:
    """Build every input type of `schema` it can from a plan (see the module docstring)."""
    definitions = [
        concrete.definition
        for concrete in schema.schema_converter.type_map.values()
        if isinstance(concrete.definition, StrawberryObjectDefinition)
        and concrete.definition.is_input
        # A generic's copies share its hook; their fields differ from its own.
        and concrete.definition.concrete_of is None
        and not concrete.definition.is_graphql_generic
    ]
    planner = _Planner(schema.config, schema.schema_converter.scalar_registry)
    for definition in definitions:
        if planner.covers(definition):
            definition.from_input = InputBuilder(definition)


class InputBuilder:
    """The `from_input` hook of one input type: its plan, made for a schema on first use."""

    def __init__(self, definition: StrawberryObjectDefinition) -> None:
        self.definition = definition
        self.made_for: tuple[StrawberryConfig, Mapping[object, Any]] | None = None
        self.fields: tuple[FieldPlan, ...] = ()
        self.unset: dict[str, None] = {}

    def __call__(self, cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        made_for = self.made_for
        if (
            made_for is None
            or made_for[0] is not context.config
            or made_for[1] is not context.scalar_registry
        ):
            self._plan(context.config, context.scalar_registry)
        # graphql-core validated that every required field is there; the others start
        # as None unless the class gives them a default (Strawberry's rule).
        kwargs: dict[str, Any] = dict(self.unset)
        for graphql_name, python_name, convert in self.fields:
            if graphql_name in value:
                given = value[graphql_name]
                if convert is None or given is None or given is UNSET:
                    kwargs[python_name] = given
                else:
                    kwargs[python_name] = convert(given, context)
        return cls(**kwargs)

    def _plan(self, config: StrawberryConfig, registry: Mapping[object, Any]) -> None:
        planner = _Planner(config, registry)
        definition = self.definition
        self.fields = tuple(
            (
                config.name_converter.from_field(field),
                field.python_name,
                planner.convert(field.resolve_type(type_definition=definition)),
            )
            for field in definition.fields
        )
        self.unset = {
            field.python_name: None
            for field in definition.fields
            if field.default_value is dataclasses.MISSING
            and field.default_factory is dataclasses.MISSING
        }
        self.made_for = (config, registry)


class _Planner:
    def __init__(self, config: StrawberryConfig, registry: Mapping[object, Any]) -> None:
        self.config = config
        self.registry = registry

    def covers(self, definition: StrawberryObjectDefinition) -> bool:
        """True when the type and every input it reaches can be built from a plan."""
        try:
            self._check(definition, set())
        except Unplanned:
            return False
        return True

    def _check(self, definition: StrawberryObjectDefinition, seen: set[int]) -> None:
        if id(definition) in seen:
            return
        seen.add(id(definition))
        if definition.from_input is not None and not isinstance(
            definition.from_input, InputBuilder
        ):
            raise Unplanned(definition.name)
        for field in definition.fields:
            if isinstance(field.type, StrawberryMaybe):
                raise Unplanned(f"{definition.name}.{field.python_name}")
            self.convert(field.resolve_type(type_definition=definition))
            nested = _innermost(field.resolve_type(type_definition=definition))
            if has_object_definition(nested):
                self._check(nested.__strawberry_definition__, seen)

    def convert(self, type_: StrawberryType | type) -> Convert | None:
        """How to convert a non-null value of `type_`; None when it is taken as it is."""
        if isinstance(type_, StrawberryMaybe):
            raise Unplanned("Maybe")
        if isinstance(type_, StrawberryOptional):
            return self.convert(type_.of_type)
        if isinstance(type_, StrawberryList):
            item = self.convert(type_.of_type)
            if item is None:
                # graphql-core gives every request that omits a list the same default:
                # a copy keeps one request's changes out of the next (as Strawberry does).
                return _copy_list
            return _list_of(item)
        if isinstance(type_, LazyType):
            return self.convert(type_.resolve_type())
        if type_ is GlobalID:
            raise Unplanned("GlobalID")
        if is_scalar(type_, self.registry) or isinstance(type_, StrawberryEnumDefinition):
            return None
        if has_enum_definition(type_):
            return None  # graphql-core's enum type gives the member itself
        if has_object_definition(type_) and type_.__strawberry_definition__.is_input:
            return _nested(type_)
        raise Unplanned(repr(type_))


def _innermost(type_: StrawberryType | type) -> StrawberryType | type:
    while isinstance(type_, StrawberryOptional | StrawberryList | LazyType):
        type_ = type_.resolve_type() if isinstance(type_, LazyType) else type_.of_type
    return type_


def _copy_list(value: Any, context: InputContext) -> list[Any]:
    return list(value)


def _list_of(item: Convert) -> Convert:
    def convert(value: Any, context: InputContext) -> list[Any]:
        return [x if x is None or x is UNSET else item(x, context) for x in value]

    return convert


def _nested(cls: type) -> Convert:
    definition: StrawberryObjectDefinition = cls.__strawberry_definition__  # type: ignore[attr-defined]

    def convert(value: Any, context: InputContext) -> Any:
        # Through the definition at call time: types may refer to each other.
        build = definition.from_input
        assert build is not None, "every input a planned type reaches is planned"
        return build(cls, value, context)

    return convert
