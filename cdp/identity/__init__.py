"""Profiles and the identifiers that find them."""
