"""One article of a batch as its entry: the result, or the error in the documented shape,
with the tokens it spent and its time. Shared by `POST /extract/batch` (service.api) and the
JSONL batch runs (service.bulk), which must not import each other."""

from __future__ import annotations

import logging
import time
from typing import Any

from pydantic import ValidationError

from schemas.api import BatchItemResult, ErrorDetail, ExtractRequest, Usage
from service.errors import (
    INTERNAL_ERROR_MESSAGE,
    InvalidInput,
    NewsfactsError,
    validation_problems,
)
from service.extraction.admission import LOCAL, Requester
from service.extraction.pipeline import Pipeline

log = logging.getLogger("newsfacts")


def parse_request(body: dict[str, Any]) -> ExtractRequest:
    """An `/extract` body as a request, or InvalidInput saying what is wrong with it (a body
    whose `_error` says why its input could not be read is refused with that reason)."""
    if "_error" in body:
        raise InvalidInput(body["_error"])
    try:
        return ExtractRequest.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(validation_problems(exc.errors())) from None


async def extract_item(
    pipeline: Pipeline,
    request: ExtractRequest | dict[str, Any],
    request_id: str,
    who: Requester = LOCAL,
) -> BatchItemResult:
    """One article's result, or its error in the documented shape; never raises.

    An unexpected exception (a bug) is logged with its trace and becomes this article's
    500 internal_error, so the other articles of the batch keep their results.
    """
    started = time.perf_counter()
    try:
        if isinstance(request, dict):
            request = parse_request(request)
        response = await pipeline.extract(request, who)
    except NewsfactsError as exc:
        return failed_item(exc.status, exc.code, exc.message, request_id, started, exc.spent)
    except Exception:
        log.exception("unexpected error in a batch article", extra={"article": request_id})
        return failed_item(500, "internal_error", INTERNAL_ERROR_MESSAGE, request_id, started,
                           Usage())  # fmt: skip
    return BatchItemResult(
        status=200, result=response, usage=response.meta.usage, latency_ms=response.meta.latency_ms
    )


def failed_item(
    status: int, code: str, message: str, request_id: str, started: float, spent: Usage
) -> BatchItemResult:
    """An article's failure as its batch entry: the error shape, its tokens, its time."""
    return BatchItemResult(
        status=status,
        error=ErrorDetail(code=code, message=message, request_id=request_id),
        usage=spent,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
    )
