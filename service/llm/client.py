"""Structured LLM calls through `openai` + `instructor`; the only module that imports them.

Two layers of retry, each for its own kind of failure:
- transport (tenacity): timeouts, 429 (honouring Retry-After), 5xx and connection errors;
- content (instructor): a tool call that does not validate against the schema is re-asked
  with the validation errors.
Every HTTP response's usage is counted, so the tokens of failed attempts are billed too.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import instructor
import openai
from instructor.core import Hooks, IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from schemas.api import Usage
from service.errors import LLMError, LLMInvalidOutput, LLMTimeout, LLMUnavailable
from service.llm.protocol import BatchStatus, LLMResult
from service.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)
MAX_RETRY_AFTER_S = 30.0
BATCH_TAG = "newsfacts_submission"  # the metadata key a batch is submitted under


class TokenBudgetExceeded(LLMInvalidOutput):
    """A request spent its token budget before producing valid output."""


@dataclass
class _Meter:
    """Tokens and calls of one structured request, over all of its attempts."""

    budget: int
    usage: Usage = field(default_factory=Usage)
    calls: int = 0

    def add(self, response: Any) -> None:
        u = getattr(response, "usage", None)
        if u is not None:
            self.usage.prompt_tokens += int(getattr(u, "prompt_tokens", 0) or 0)
            self.usage.completion_tokens += int(getattr(u, "completion_tokens", 0) or 0)


def _log_parse_error(error: Exception, **_: Any) -> None:
    """Log why an answer failed validation: field paths and error types, never the text."""
    if isinstance(error, ValidationError):
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in error.errors()[:20]]
    else:
        problems = [type(error).__name__]
    log.warning("LLM answer failed validation; re-asking", extra={"problems": problems})


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, LLMTimeout | openai.APITimeoutError | openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def _retry_after(exc: BaseException | None) -> float | None:
    if isinstance(exc, openai.APIStatusError):
        value = exc.response.headers.get("retry-after")
        try:
            return min(max(float(value), 0.0), MAX_RETRY_AFTER_S) if value else None
        except ValueError:
            return None
    return None


@functools.cache
def _prepared(response_model: type[T]) -> type[T]:
    """The model wrapped as instructor would wrap it, once: instructor skips the wrapping
    (a new pydantic class per call) for a model that is already a ResponseSchema."""
    return instructor.response_schema(response_model)


@functools.cache
def _tool(response_model: type[BaseModel]) -> dict[str, Any]:
    """The tool instructor sends for `response_model`."""
    return {"type": "function", "function": _prepared(response_model).openai_schema}


def _mark_truncation(response: Any, max_tokens: int | None) -> None:
    """Say `length` when the completion used its whole cap, whatever the server reported.

    llama-cpp-python reports a tool call cut off at max_tokens as `tool_calls`; instructor
    would then re-ask with the truncated output appended, overflowing the context.
    """
    usage = getattr(response, "usage", None)
    choices = getattr(response, "choices", None)
    if not max_tokens or usage is None or not choices:
        return
    if int(getattr(usage, "completion_tokens", 0) or 0) >= max_tokens:
        choices[0].finish_reason = "length"


class OpenAIStructuredLLM:
    """`StructuredLLM` over any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp)."""

    def __init__(self, settings: Settings, base_url: str, api_key: str | None) -> None:
        self.settings = settings
        self.model_name = settings.llm_model
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=settings.llm_timeout_s,
            max_retries=0,  # tenacity owns transport retries
        )

    def _wait(self, state: RetryCallState) -> float:
        """Retry-After when the server sent one, else exponential backoff with full jitter."""
        outcome = state.outcome
        hinted = _retry_after(outcome.exception() if outcome else None)
        if hinted is not None:
            return hinted
        cap = self.settings.llm_retry_backoff_s * 2 ** (state.attempt_number - 1)
        return random.uniform(0, cap)

    async def _create(self, meter: _Meter, **kwargs: Any) -> Any:
        """One chat completion, retried on transient transport failures, usage metered."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.llm_transport_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if meter.usage.total >= meter.budget:
                    raise TokenBudgetExceeded(
                        f"the request's token budget ({meter.budget} left for this call) was "
                        f"spent after {meter.calls} LLM calls without valid output; raise "
                        "NEWSFACTS_TOKEN_BUDGET or shorten the text"
                    )
                meter.calls += 1
                # httpx's timeout is per read, so a body that trickles in never trips it;
                # this bounds the whole call.
                try:
                    async with asyncio.timeout(self.settings.llm_timeout_s):
                        response = await self._client.chat.completions.create(**kwargs)
                except TimeoutError:
                    limit = self.settings.llm_timeout_s
                    raise LLMTimeout(
                        f"the LLM did not finish answering within {limit:g} s on any attempt "
                        "(NEWSFACTS_LLM_TIMEOUT_S)"
                    ) from None
                meter.add(response)
                _mark_truncation(response, kwargs.get("max_tokens"))
                return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def extract(
        self,
        messages: list[dict[str, str]],
        response_model: type[T],
        offered: Sequence[type[BaseModel]] = (),
        budget: int | None = None,
    ) -> LLMResult[T]:
        """Ask for `response_model` as a tool call (the tools `offered` shown beside it);
        map every failure to an LLMError."""
        meter = _Meter(budget=self.settings.token_budget if budget is None else budget)
        tools = [_tool(m) for m in offered]

        async def create(**kwargs: Any) -> Any:
            if tools:  # instructor sent the answer's own tool; tool_choice still names it
                kwargs["tools"] = tools
            return await self._create(meter, **kwargs)

        hooks = Hooks()
        hooks.on("parse:error", _log_parse_error)
        structured = instructor.patch(create=create, mode=instructor.Mode.TOOLS)
        try:
            value = await structured(
                hooks=hooks,
                response_model=_prepared(response_model),
                messages=messages,
                model=self.model_name,
                temperature=self.settings.llm_temperature,
                max_tokens=self.settings.llm_max_tokens,
                max_retries=self.settings.llm_reasks,
            )
        except Exception as exc:
            mapped = _map_error(exc).with_cost(
                meter.usage.prompt_tokens, meter.usage.completion_tokens, meter.calls
            )
            if mapped is exc:
                raise
            raise mapped from exc
        return LLMResult(value=value, usage=meter.usage, attempts=meter.calls)

    async def ping(self) -> bool:
        """True when the endpoint answers its model list."""
        try:
            await self._client.with_options(timeout=5.0, max_retries=0).models.list()
        except openai.OpenAIError:
            return False
        return True

    async def close(self) -> None:
        """Release the HTTP connection pool."""
        await self._client.close()


class OpenAIBatchProvider:
    """`BatchProvider` over an OpenAI-compatible `/v1/files` + `/v1/batches` API."""

    def __init__(self, settings: Settings) -> None:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        self._client = openai.AsyncOpenAI(
            base_url=settings.llm_base_url,
            api_key=key or "not-needed",
            timeout=120.0,
            max_retries=settings.llm_transport_retries,  # the SDK's own backoff, 429 included
        )

    async def submit(self, lines: list[dict[str, Any]], tag: str) -> str:
        """Upload the lines as a batch JSONL file and create a 24 h batch over it, with
        `tag` in its metadata."""
        payload = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
        try:
            uploaded = await self._client.files.create(
                file=("newsfacts-batch.jsonl", payload.encode("utf-8")), purpose="batch"
            )
            batch = await self._client.batches.create(
                input_file_id=uploaded.id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata={BATCH_TAG: tag},
            )
        except openai.OpenAIError as exc:
            raise _map_error(exc) from exc
        return batch.id

    async def find(self, tag: str) -> str | None:
        """The newest batch whose metadata carries `tag`, among the provider's recent ones."""
        try:
            async for batch in self._client.batches.list(limit=100):
                if (batch.metadata or {}).get(BATCH_TAG) == tag:
                    return batch.id
        except openai.OpenAIError as exc:
            raise _map_error(exc) from exc
        return None

    async def status(self, batch_id: str) -> BatchStatus:
        """The batch as the provider reports it."""
        try:
            batch = await self._client.batches.retrieve(batch_id)
        except openai.OpenAIError as exc:
            raise _map_error(exc) from exc
        counts = batch.request_counts
        return BatchStatus(
            id=batch.id, status=batch.status, total=counts.total if counts else 0,
            completed=counts.completed if counts else 0, failed=counts.failed if counts else 0,
            output_file_id=batch.output_file_id, error_file_id=batch.error_file_id,
        )  # fmt: skip

    async def download(self, file_id: str) -> str:
        """A result file's text."""
        try:
            content = await self._client.files.content(file_id)
        except openai.OpenAIError as exc:
            raise _map_error(exc) from exc
        return content.text

    async def close(self) -> None:
        """Release the HTTP connection pool."""
        await self._client.close()


def _root_cause(exc: BaseException) -> BaseException:
    """The transport error (or our own) behind instructor's wrapping, if there is one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, LLMError | openai.APIError | IncompleteOutputException):
            return seen
        seen = seen.__cause__ or seen.__context__
    return exc


def _error_message(body: object) -> str:
    """The message of an OpenAI-style error body (`{"error": {"message": ...}}`), shortened;
    "" when there is none."""
    error = body.get("error", body) if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return " ".join(str(message).split())[:500] if message else ""


# What a client is told of an LLM's HTTP error: never the LLM's own words, which name the
# operator's account (OpenAI's 429: the organisation id; its 401: the key's ends).
_STATUS_ADVICE = {
    401: "it refused the service's credentials; the operator must check NEWSFACTS_LLM_API_KEY",
    403: "it refused the service's account access to this model; the operator must check "
    "NEWSFACTS_LLM_API_KEY and NEWSFACTS_LLM_MODEL",
    429: "it is rate-limiting this service; retry later",
}


def _status_error(cause: openai.APIStatusError) -> LLMUnavailable:
    """A fixed message naming the LLM's status; the LLM's own message goes to the log only
    (with the request id every log line carries)."""
    code = cause.status_code
    log.warning(
        "the LLM answered an HTTP error",
        extra={
            "llm_status": code,
            "llm_message": _error_message(cause.body) or " ".join(str(cause).split())[:500],
        },
    )
    retried = " after retries" if _is_transient(cause) else ""
    advice = _STATUS_ADVICE.get(code) or (
        "retry later" if code >= 500 else "it refused the request as sent"
    )
    return LLMUnavailable(
        f"the LLM answered HTTP {code}{retried}: {advice}; its own message is in the "
        "service's log under this request_id"
    )


def _map_error(exc: BaseException) -> LLMError:
    """Translate an openai/instructor exception into our error tree, in words of our own:
    what the LLM said is logged, never returned."""
    cause = _root_cause(exc)
    if isinstance(cause, LLMError):
        return cause
    if isinstance(cause, openai.APITimeoutError):
        return LLMTimeout("the LLM did not answer in time on any attempt (NEWSFACTS_LLM_TIMEOUT_S)")
    if isinstance(cause, openai.APIConnectionError):
        log.warning("the LLM could not be reached", extra={"llm_error": repr(cause.__cause__)})
        return LLMUnavailable(
            "the LLM could not be reached after retries (connection failed); retry later"
        )
    if isinstance(cause, openai.APIStatusError):
        return _status_error(cause)
    if isinstance(cause, IncompleteOutputException):
        return LLMInvalidOutput("the LLM's output was cut off at max_tokens before it finished")
    if isinstance(exc, InstructorRetryException):
        return LLMInvalidOutput(
            f"the LLM's output failed schema validation after {exc.n_attempts} attempts"
        )
    return LLMInvalidOutput(f"the LLM's answer could not be used: {type(cause).__name__}")
