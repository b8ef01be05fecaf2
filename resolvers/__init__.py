"""Thin GraphQL resolvers: check the caller's scope, call one service, map the result."""
