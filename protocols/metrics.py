"""Prometheus metrics (filled in below)."""


def register_hooks() -> None:
    pass
