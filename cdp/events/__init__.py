"""Behavioural events from every surface, and the identity stitching they carry."""
