"""Pushing committed changes to every surface that watches them."""
