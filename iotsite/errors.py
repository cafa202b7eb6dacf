"""Domain errors: what services raise when they refuse a request.

Services know nothing of HTTP frameworks. The API's exception handler
(iotsite/exceptions.py) answers a DomainError with its status and JSON; a page's form
shows its message on its field.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def as_json(self) -> dict[str, Any]:
        """DRF's shape: {"field": ["message"]}, or {"detail": "message"} for the whole request."""
        return {self.field: [self.message]} if self.field else {"detail": self.message}
