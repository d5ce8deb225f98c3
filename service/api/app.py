"""The FastAPI app: thin routes over the pipeline, and the one place errors become HTTP."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.api import (
    BatchRequest,
    BatchResponse,
    ErrorResponse,
    ExtractRequest,
    ExtractResponse,
    Usage,
)
from schemas.facts import NewsFacts
from schemas.incidents import ArticlesRequest
from service.api.bodies import BodyReader
from service.api.guard import Guard, error_response, unless_disconnected
from service.api.incidents import close_store, incidents
from service.api.routing import (
    ERROR_RESPONSES,
    HTTP_CODES,
    body_spec,
    check_batch_size,
    client_key,
    json_answer,
    read_body,
    require_json,
)
from service.errors import (
    LLMError,
    NewsfactsError,
    validation_problems,
)
from service.extraction.admission import Requester
from service.extraction.items import extract_item
from service.extraction.pipeline import Pipeline
from service.extraction.strategies import STRATEGIES, needs_model
from service.extraction.strategy import OPTIONS
from service.llm.backend import open_backend
from service.llm.protocol import StructuredLLM
from service.logs import request_id_var
from service.prompts import extraction_prompts
from service.settings import Settings, load_settings

log = logging.getLogger("newsfacts")
M = TypeVar("M", bound=BaseModel)


def _openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The generated spec, tightened with what this deployment accepts: the prompts on disk
    and the text limit, so the spec describes exactly the requests that can succeed."""
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        components = spec["components"]["schemas"]
        for model in (ExtractRequest, BatchRequest, ArticlesRequest):  # bodies read by hand
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(body.pop("$defs", {}))
            components[model.__name__] = body
        fields = components["ExtractRequest"]["properties"]
        fields["text"]["maxLength"] = settings.max_text_chars
        batch = components["BatchRequest"]["properties"]["articles"]
        batch["maxItems"] = settings.max_batch_items
        stored = components["ArticlesRequest"]["properties"]["articles"]
        stored["maxItems"] = min(stored["maxItems"], settings.max_batch_items)
        components["ArticleIn"]["properties"]["text"]["maxLength"] = settings.max_text_chars
        prompts = extraction_prompts()
        fields["prompt"]["anyOf"] = [{"enum": prompts, "type": "string"}, {"type": "null"}]
        # A prompt belongs to one strategy; with both named, they must agree.
        families = {
            name: [p for p in prompts if strategy.owns(p)] for name, strategy in STRATEGIES.items()
        }
        rules: list[dict[str, Any]] = [
            {
                "if": _names("strategy", name),
                "then": {
                    "properties": {
                        "prompt": {"anyOf": [{"enum": family, "type": "string"}, {"type": "null"}]}
                        if family
                        else {"type": "null"}
                    }
                },
            }
            for name, family in families.items()
        ]
        rules += _unhonoured_options(families, settings.strategy)
        spec["components"]["schemas"]["ExtractRequest"]["allOf"] = rules
        app.openapi_schema = spec
    return app.openapi_schema


def _names(field: str, value: str) -> dict[str, Any]:
    """JSON Schema: the body names `value` for `field`."""
    return {"properties": {field: {"const": value}}, "required": [field]}


def _absent(field: str) -> dict[str, Any]:
    """JSON Schema: the body leaves `field` out or null."""
    return {"anyOf": [{"not": {"required": [field]}}, {"properties": {field: {"type": "null"}}}]}


def _unhonoured_options(families: dict[str, list[str]], default: str) -> list[dict[str, Any]]:
    """JSON Schema rules refusing an option value the request's strategy does not honour:
    the strategy it names, else the one its prompt implies, else the service's default."""
    rules = []
    for name, strategy in STRATEGIES.items():
        chosen: list[dict[str, Any]] = [_names("strategy", name)]
        if families[name]:  # a prompt of this strategy, the strategy left out
            chosen.append({"allOf": [_absent("strategy"), {"properties": {"prompt": {
                "enum": families[name]}}, "required": ["prompt"]}]})  # fmt: skip
        if name == default:
            chosen.append({"allOf": [_absent("strategy"), _absent("prompt")]})
        for option, value in OPTIONS:
            if (option, value) not in strategy.honours:
                refused = {"properties": {option: {"not": {"const": value}}}}
                rules.append({"if": {"anyOf": chosen}, "then": refused})
    return rules


extraction = APIRouter(dependencies=[Depends(require_json)], responses=ERROR_RESPONSES)
probes = APIRouter()


@extraction.post(
    "/extract",
    response_model=ExtractResponse,
    summary="Extract grounded facts from one article",
    openapi_extra=body_spec(ExtractRequest),
)
async def extract(request: Request) -> Response:
    """Extract typed facts with evidence spans from one article."""
    body = await read_body(request, ExtractRequest)
    pipeline: Pipeline = request.app.state.pipeline
    who = Requester(client_key(request))
    return await json_answer(await unless_disconnected(request, pipeline.extract(body, who)))


@extraction.post(
    "/extract/batch",
    response_model=BatchResponse,
    responses={
        413: {
            "model": ErrorResponse,
            "description": "More articles than NEWSFACTS_MAX_BATCH_ITEMS (batch_too_large).",
        },
    },
    summary="Extract grounded facts from several articles",
    openapi_extra=body_spec(BatchRequest),
)
async def extract_batch(request: Request) -> Response:
    """Extract each article concurrently; each gets its result or its own error entry.

    A batch the spec forbids (too many articles, a text over the limit, an unknown
    prompt) is refused whole, before any LLM call. The batch takes one place in the
    queue; its articles wait for slots behind other clients' single requests.
    """
    body = await read_body(request, BatchRequest)
    pipeline: Pipeline = request.app.state.pipeline
    check_batch_size(len(body.articles), pipeline.settings.max_batch_items)
    # What the spec forbids refuses the whole batch, as /extract would refuse it.
    for index, article in enumerate(body.articles):
        try:
            pipeline.check(article)
        except NewsfactsError as exc:
            exc.message = f"articles[{index}]: {exc.message}"
            raise
    request_id = request_id_var.get()
    client = client_key(request)
    who = Requester(client, batch=True)
    async with pipeline.admission.place(client):
        results = await unless_disconnected(
            request,
            asyncio.gather(
                *(extract_item(pipeline, article, request_id, who) for article in body.articles)
            ),
        )
    answer = BatchResponse(
        results=results,
        usage=sum((r.usage for r in results), Usage()),
        failed=sum(r.error is not None for r in results),
    )
    return await json_answer(answer)


@probes.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@probes.get(
    "/readyz",
    summary="Readiness: the LLM backend answers and the queue has room",
    responses={
        503: {
            "model": ErrorResponse,
            "description": "LLM backend unreachable (llm_unavailable), or every slot "
            "busy and the queue full (saturated): a load balancer sends elsewhere.",
        }
    },
)
async def readyz(request: Request) -> Any:
    """200 with the load (running, waiting, limits) when the backend answers and a new
    request would be admitted; else 503."""
    pipeline: Pipeline = request.app.state.pipeline
    if not await pipeline.llm.ping():
        return error_response(503, "llm_unavailable", "the LLM backend does not answer", 5)
    load = pipeline.load
    if load["saturated"]:
        message = f"{load['running']} extractions running and {load['waiting']} waiting"
        return error_response(503, "saturated", message, 5)
    backend = "embedded" if pipeline.settings.embedded else "remote"
    return {"status": "ready", "model": pipeline.llm.model_name, "backend": backend, **load}


@probes.get("/schema", summary="JSON Schema of the facts")
async def schema() -> dict[str, Any]:
    """The `news_facts` v1 JSON Schema."""
    return NewsFacts.model_json_schema()


async def our_errors(request: Request, exc: NewsfactsError) -> JSONResponse:
    """Our exceptions in the error shape (a 5xx is logged with what it cost)."""
    if exc.status >= 500:
        cost = (
            {"prompt_tokens": exc.prompt_tokens, "completion_tokens": exc.completion_tokens,
             "attempts": exc.attempts}
            if isinstance(exc, LLMError) else {}
        )  # fmt: skip
        log.warning("request failed", extra={"code": exc.code, "status": exc.status, **cost})
    return error_response(exc.status, exc.code, exc.message, exc.retry_after)


async def invalid_body(request: Request, exc: Exception) -> JSONResponse:
    """A body that fails the schema: 422 naming each problem."""
    assert isinstance(exc, RequestValidationError)
    problems = validation_problems(exc.errors(), skip=("body",))
    return error_response(422, "invalid_request", problems or "invalid request body")


async def http_errors(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's and FastAPI's own HTTP errors in the error shape."""
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, NewsfactsError):  # raised while FastAPI read the body
        return await our_errors(request, exc.__cause__)
    if exc.status_code == 400:  # FastAPI's "error parsing the body" (e.g. invalid UTF-8)
        return error_response(422, "invalid_request", f"body is not valid JSON: {exc.detail}")
    code = HTTP_CODES.get(exc.status_code, "http_error")
    response = error_response(exc.status_code, code, str(exc.detail))
    response.headers.update(exc.headers or {})  # e.g. Allow on a 405
    return response


def lifespan_for(
    settings: Settings, llm: StructuredLLM | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the pipeline over `llm`, or over the backend settings name
    (started, warmed up on the embedded model, and stopped with the app)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if llm is not None:
            app.state.pipeline = Pipeline(llm, settings)
            yield
            close_store(app)
            return
        async with open_backend(settings, uses_model=needs_model(settings)) as backend:
            app.state.backend = backend
            app.state.pipeline = Pipeline(backend.llm, settings)
            warm_s = None
            if settings.embedded and settings.embedded_warm_up:  # None: nothing to warm up
                warm_s = await app.state.pipeline.warm_up()
            # What start-up loaded (spaCy's model, the gazetteer's 187,000 keys) lives as
            # long as the process: out of the collector's sight, a full collection no
            # longer walks it, holding the GIL (and the event loop) for 100 ms or more.
            gc.freeze()
            log.info("ready", extra={
                "model": backend.llm.model_name, "embedded": settings.embedded,
                "warm_up_s": None if warm_s is None else round(warm_s, 1),
            })  # fmt: skip
            yield
            close_store(app)

    return lifespan


def create_app(settings: Settings | None = None, llm: StructuredLLM | None = None) -> FastAPI:
    """Build the app; with no `llm` given, the backend comes from settings at startup."""
    settings = settings or load_settings()
    app = FastAPI(
        title="newsfacts",
        version="0.1.0",
        summary="Typed, source-grounded facts from news articles.",
        lifespan=lifespan_for(settings, llm),
    )
    app.state.bodies = BodyReader()
    app.add_middleware(Guard, settings=settings)
    app.openapi = lambda: _openapi(app, settings)  # type: ignore[method-assign]
    app.add_exception_handler(NewsfactsError, our_errors)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_body)
    app.add_exception_handler(StarletteHTTPException, http_errors)
    app.include_router(extraction)
    app.include_router(probes)
    app.include_router(incidents)
    return app
