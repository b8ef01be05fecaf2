"""The query cost limit: what a document may ask for, counted before it runs.

Depth, tokens and aliases each stay small while list sizes multiply: 30 aliases of
`profiles(ids: [10 ids])` each selecting `history(first: 100)` asked for 30,000 ledger
entries (4.6 MB), and slowed every other request while it ran. The cost counts every
field once, times the size of each list around it:

- a field with a size argument (`first`, `limit`: its value; `ids`: how many) costs
  that many times its selection; a variable counts as the largest list the API
  allows, an omitted argument as its default;
- a list under it with no size of its own (a connection's `edges`) is that size already;
- any other list counts as `DEFAULT_LIST_SIZE` items.

Worked out from the document alone, as a validation rule, so the document cache keeps
the answer with the document and a refused one runs no resolver.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)

from resolvers.inputs import MAX_LIST_ARGUMENT

DEFAULT_LIST_SIZE = 10
COUNT_ARGUMENTS = ("first", "limit")
LIST_ARGUMENTS = ("ids",)


def argument_size(field: FieldNode, definition: GraphQLField) -> int | None:
    """The list size a field's arguments ask for; None when it takes no size."""
    given = {argument.name.value: argument.value for argument in field.arguments or ()}
    for name in (*COUNT_ARGUMENTS, *LIST_ARGUMENTS):
        if name not in definition.args:
            continue
        value = given.get(name)
        if isinstance(value, VariableNode):
            return MAX_LIST_ARGUMENT
        if isinstance(value, IntValueNode):
            return max(int(value.value), 0)
        if isinstance(value, ListValueNode):
            return len(value.values)
        default = definition.args[name].default_value
        return default if isinstance(default, int) else MAX_LIST_ARGUMENT
    return None


class CostCounter:
    """Walks one operation's selections, fragments included (each spread counted where
    it is spread; a cycle, which another rule reports, is counted once)."""

    def __init__(self, context: ValidationContext) -> None:
        self.context = context
        self._spreading: set[str] = set()

    def selections(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, sized: bool
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, sized)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                within = self.context.schema.get_type(condition.name.value) if condition else None
                total += self.selections(selection.selection_set, within or parent, sized)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.spread(selection, sized)
        return total

    def spread(self, spread: FragmentSpreadNode, sized: bool) -> int:
        name = spread.name.value
        fragment = self.context.get_fragment(name)
        if fragment is None or name in self._spreading:
            return 0
        within = self.context.schema.get_type(fragment.type_condition.name.value)
        if within is None:
            return 0
        self._spreading.add(name)
        try:
            return self.selections(fragment.selection_set, within, sized)
        finally:
            self._spreading.discard(name)

    def field(self, node: FieldNode, parent: GraphQLNamedType, sized: bool) -> int:
        fields: dict[str, GraphQLField] = getattr(parent, "fields", {})
        definition = fields.get(node.name.value)
        if definition is None:  # __typename, or a field another rule reports unknown
            return 1
        is_list = is_list_type(get_nullable_type(definition.type))
        asked = argument_size(node, definition)
        unsized = DEFAULT_LIST_SIZE if is_list and not sized else 1
        size = unsized if asked is None else asked
        # A size on a field that is not itself a list (a connection) sizes the list inside.
        sizes_inner = asked is not None and not is_list
        inner = self.selections(node.selection_set, get_named_type(definition.type), sizes_inner)
        return size * (1 + inner)


def query_cost_limit(max_cost: int) -> type[ValidationRule]:
    """A validation rule refusing any operation that costs more than `max_cost`."""

    class QueryCostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            root = self.context.schema.get_root_type(node.operation)
            if root is None:
                return
            cost = CostCounter(self.context).selections(node.selection_set, root, sized=False)
            if cost > max_cost:
                name = node.name.value if node.name else "anonymous"
                message = (
                    f"'{name}' costs {cost}, over the limit of {max_cost}: ask for fewer "
                    "items (first, limit, ids) or fewer fields"
                )
                self.report_error(GraphQLError(message, node))

    return QueryCostLimit
