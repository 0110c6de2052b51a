"""Python client for Sibyl: studies, trials, ask/tell and ``tune()`` over the REST API.
Standard library only; Python 3.9 and later."""
from . import search
from .client import Client, Study, Trial
from .errors import (AlreadyExists, Conflict, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied,
                     ResourceExhausted, ServerError, SibylError, Unauthenticated, Unavailable)
from .transport import RetryPolicy
from .tune import study_spec, tune

__version__ = "0.1.0"

__all__ = [
    "Client", "Study", "Trial", "RetryPolicy", "tune", "study_spec", "search",
    "SibylError", "InvalidArgument", "Unauthenticated", "PermissionDenied", "NotFound", "Conflict",
    "AlreadyExists", "FailedPrecondition", "ResourceExhausted", "Unavailable", "ServerError",
]
