"""Helpers for testing code that calls model APIs: a stand-in server on loopback.

aiohttp is imported only when `workbench.testing.standin` is.
"""
