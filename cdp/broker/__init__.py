"""Publish/subscribe: how a committed change reaches every process's subscribers."""
