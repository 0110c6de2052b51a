"""Errors as the server shapes them: ``{"error": {"code", "message", "field"}}``.

Every exception carries the HTTP ``status`` (None when no answer came), the server's ``code``,
the request ``field`` at fault and the ``reason``.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Type


class SibylError(Exception):
    """Base of every error the client raises for the server's (or the network's) refusal."""

    def __init__(self, reason: str, *, status: Optional[int] = None, code: Optional[str] = None,
                 field: Optional[str] = None, attempts: int = 1) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.status = status
        self.code = code
        self.field = field
        self.reason = reason
        #: How many times the request was sent (more than one after retries).
        self.attempts = attempts


class InvalidArgument(SibylError):
    """400 (and 415): the request, or the study spec, is wrong; ``field`` names where."""


class Unauthenticated(SibylError):
    """401: no token, or not the server's token."""


class PermissionDenied(SibylError):
    """403: a Host name the server does not answer to, or a cross-site state change."""


class NotFound(SibylError):
    """404: no such study, trial or route."""


class Conflict(SibylError):
    """409: the request conflicts with the current state."""


class AlreadyExists(Conflict):
    """409 ``ALREADY_EXISTS``: a different study has that name."""


class FailedPrecondition(Conflict):
    """409 ``FAILED_PRECONDITION``: e.g. the study or trial has already ended."""


class ResourceExhausted(SibylError):
    """413 / 431: a body or headers too large."""


class Unavailable(SibylError):
    """503, or the server could not be reached (``status`` None) after the retries."""


class ServerError(SibylError):
    """500 and any other status the server should not answer."""


_BY_STATUS: Dict[int, Type[SibylError]] = {
    400: InvalidArgument,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: ResourceExhausted,
    415: InvalidArgument,
    431: ResourceExhausted,
    503: Unavailable,
}
_BY_CODE: Dict[str, Type[SibylError]] = {
    "ALREADY_EXISTS": AlreadyExists,
    "FAILED_PRECONDITION": FailedPrecondition,
}


def error_from_response(status: int, body: Any, attempts: int = 1) -> SibylError:
    """The exception for a non-2xx answer, from its shaped body when it has one."""
    shaped = body.get("error") if isinstance(body, dict) else None
    if isinstance(shaped, dict):
        code = shaped.get("code") if isinstance(shaped.get("code"), str) else None
        reason = str(shaped.get("message") or f"HTTP {status}")
        field = shaped.get("field") if isinstance(shaped.get("field"), str) else None
    else:
        code, reason, field = None, f"HTTP {status}: {str(body)[:200]}", None
    cls = (_BY_CODE.get(code) if code else None) or _BY_STATUS.get(status) or ServerError
    return cls(reason, status=status, code=code, field=field, attempts=attempts)
