"""Enrollment: search before create, card allocation, auto-enrollment, one-time bonuses."""
