"""Accounts: login, passwords, the account page, API tokens and the users API."""
