"""Accounts: identity, sign-up and verification, sessions, password reset, roles and ranks."""
