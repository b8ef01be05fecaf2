"""The served GraphQL schema: Strawberry types, inputs, enums, extensions."""
