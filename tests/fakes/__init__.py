"""Fake provider servers for tests and benches: each speaks its provider's documented wire format."""
