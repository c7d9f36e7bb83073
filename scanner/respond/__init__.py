"""Responders: tell people and systems about incidents, once each.

The only package that sends mail, webhooks, tickets or revocations.
"""
