"""What every route shares: the JSON-only rule, body reading, answers and error docs."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from schemas.api import ErrorResponse
from service.api.bodies import BodyReader
from service.errors import BatchTooLarge, ClientDisconnected, UnsupportedMediaType
from service.extraction.threads import off_loop

M = TypeVar("M", bound=BaseModel)

HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "text_too_long",
    415: "unsupported_media_type",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        401: "Missing or invalid bearer token (when NEWSFACTS_API_TOKEN is set).",
        413: "Text longer than NEWSFACTS_MAX_TEXT_CHARS (text_too_long), or a body larger "
        "than NEWSFACTS_MAX_BODY_BYTES (body_too_large).",
        415: "Body is not application/json.",
        422: "Invalid body, empty text or unknown prompt.",
        502: "The LLM failed after retries: llm_timeout, llm_unavailable or llm_invalid_output.",
        503: "Saturated; retry after the Retry-After header.",
        504: "The request deadline passed.",
    }.items()
}


async def require_json(
    content_type: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    """Refuse (415) a body that is not sent as application/json."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            f"send the body as application/json, not {media_type or 'no content type'}"
        )


def client_key(request: Request) -> str:
    """Whose request this is, for fair admission: the client's address (behind a proxy,
    uvicorn's forwarded-for handling has put the real one there)."""
    return request.client.host if request.client is not None else "unknown"


async def read_body(request: Request, model: type[M]) -> M:
    """The request's body as `model`, parsed and validated off the event loop."""
    reader: BodyReader = request.app.state.bodies
    try:
        raw = await request.body()
    except ClientDisconnect:
        raise ClientDisconnected(
            "the client closed the connection before its body arrived"
        ) from None
    return await reader.read(raw, model)


async def json_answer(answer: BaseModel) -> Response:
    """The answer as JSON, serialised off the event loop (a 100,000-character article's
    facts take a while), which FastAPI would do on it."""
    content = await off_loop(lambda _: answer.model_dump_json())
    return Response(content, media_type="application/json")


def body_spec(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI requestBody of a route that reads its body itself (`read_body`)."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def check_batch_size(count: int, limit: int) -> None:
    """Refuse (413) a batch of more articles than the deployment takes."""
    if count > limit:
        raise BatchTooLarge(
            f"{count} articles; one batch takes at most {limit} (NEWSFACTS_MAX_BATCH_ITEMS)"
        )
