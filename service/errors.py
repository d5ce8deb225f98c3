"""The exception tree: every failure the service can report, with its HTTP status and code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.api import Usage

# What a client sees of an unexpected exception: the trace stays in the log.
INTERNAL_ERROR_MESSAGE = "internal error; quote the request_id"


class NewsfactsError(Exception):
    """Root of every error the service reports; carries the HTTP status and error code."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after

    @property
    def spent(self) -> Usage:
        """Tokens the request spent before failing: none unless an LLM call was made."""
        return Usage()


class ConfigError(NewsfactsError):
    """The configuration cannot work; the message says which variable to fix."""

    code = "config_error"


class InvalidInput(NewsfactsError):
    """The request body is not a valid extraction request."""

    status = 422
    code = "invalid_request"


class UnknownPrompt(InvalidInput):
    """The requested prompt name@version does not exist."""

    code = "unknown_prompt"


class TextTooLong(NewsfactsError):
    """The article is longer than the configured limit."""

    status = 413
    code = "text_too_long"


class BatchTooLarge(NewsfactsError):
    """A batch carries more articles than the configured limit."""

    status = 413
    code = "batch_too_large"


class BodyTooLarge(NewsfactsError):
    """The request body is larger than the configured limit (refused before it is read)."""

    status = 413
    code = "body_too_large"


class ClientDisconnected(NewsfactsError):
    """The client hung up before the answer; its work was cancelled (nginx's 499)."""

    status = 499
    code = "client_closed_request"


class OutputBusy(NewsfactsError):
    """Another run holds the lock on a batch's output file."""

    status = 409
    code = "output_busy"


class OutputNotOurs(NewsfactsError):
    """A batch's output names a file that is not that command's own output."""

    status = 409
    code = "output_refused"


class UnsupportedMediaType(NewsfactsError):
    """The body is not JSON."""

    status = 415
    code = "unsupported_media_type"


class NotFound(NewsfactsError):
    """What the request names is not there."""

    status = 404
    code = "not_found"


class StoreFailed(NewsfactsError):
    """The store could not be opened or written; the message says what to fix."""

    status = 503
    code = "store_unavailable"


class Unauthorized(NewsfactsError):
    """A bearer token is required and was missing or wrong."""

    status = 401
    code = "unauthorized"


class Saturated(NewsfactsError):
    """Too many requests are waiting; retry after the given seconds."""

    status = 503
    code = "saturated"


class DeadlineExceeded(NewsfactsError):
    """The request ran past its deadline."""

    status = 504
    code = "deadline_exceeded"


class LLMError(NewsfactsError):
    """The LLM failed after retries; carries what the failed attempts cost."""

    status = 502
    code = "llm_error"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0

    def with_cost(self, prompt_tokens: int, completion_tokens: int, attempts: int) -> LLMError:
        """Record the tokens and calls spent before the failure (for logs and metrics)."""
        self.prompt_tokens, self.completion_tokens = prompt_tokens, completion_tokens
        self.attempts = attempts
        return self

    @property
    def spent(self) -> Usage:
        """Tokens the failed attempts cost."""
        return Usage(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens)


class LLMTimeout(LLMError):
    """The LLM did not answer in time, on every attempt."""

    code = "llm_timeout"


class LLMUnavailable(LLMError):
    """The LLM could not be reached or kept failing (connection, 5xx, 429)."""

    code = "llm_unavailable"


class LLMInvalidOutput(LLMError):
    """The LLM's answers never matched the schema, or the token budget ran out."""

    code = "llm_invalid_output"


MAX_PROBLEMS = 10  # named in a message; the rest are counted
MAX_LOCATION_CHARS = 80  # an unknown key can be a megabyte long


def validation_problems(errors: Sequence[Any], skip: tuple[str, ...] = ()) -> str:
    """Pydantic's validation errors as one bounded line: `field.path: message; …`, the
    first MAX_PROBLEMS of them and how many more."""
    named = [
        f"{_location(err['loc'], skip)}: {str(err['msg'])[:200]}" for err in errors[:MAX_PROBLEMS]
    ]
    more = len(errors) - len(named)
    return "; ".join(named) + (f"; and {more} more problems" if more > 0 else "")


def _location(loc: Sequence[Any], skip: tuple[str, ...]) -> str:
    path = ".".join(str(p) for p in loc if p not in skip) or "body"
    return path if len(path) <= MAX_LOCATION_CHARS else path[: MAX_LOCATION_CHARS - 1] + "…"


class Stopped(Exception):
    """Raised inside work off the event loop when its stop event is set: the request that
    wanted the result is gone (not an error any client sees)."""
