"""Build the LLM client from settings: an OpenAI-compatible endpoint or the embedded server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from service.errors import LLMUnavailable
from service.llm.client import OpenAIStructuredLLM
from service.llm.embedded import EmbeddedServer, resolve_model_path
from service.llm.protocol import LLMResult, StructuredLLM
from service.settings import Settings

T = TypeVar("T", bound=BaseModel)


class NoLLM:
    """The backend of a service configured for a strategy that asks no model (nlp): no model
    is started, and a request that asks for another strategy is told so."""

    model_name = "none"

    async def extract(
        self,
        messages: list[dict[str, str]],
        response_model: type[T],
        offered: Sequence[type[BaseModel]] = (),
        budget: int | None = None,
    ) -> LLMResult[T]:
        """Refuse: there is no model to ask."""
        raise LLMUnavailable(
            "this service runs the nlp strategy (NEWSFACTS_STRATEGY=nlp) and started no "
            "model; set NEWSFACTS_STRATEGY to llm or hybrid to use one"
        )

    async def ping(self) -> bool:
        """Ready: the nlp strategy needs nothing beyond this process."""
        return True

    async def close(self) -> None:
        """Nothing to release."""


@dataclass
class Backend:
    """The LLM the pipeline talks to, and the embedded server behind it if there is one."""

    llm: StructuredLLM
    embedded: EmbeddedServer | None = None


@asynccontextmanager
async def open_backend(settings: Settings, *, uses_model: bool = True) -> AsyncIterator[Backend]:
    """Yield a ready backend; starts (and later stops) the embedded server when configured.
    `uses_model` is the configured strategy's word (`ExtractionStrategy.uses_model`, which
    this layer does not import): False, and no model is started (`NoLLM`)."""
    server: EmbeddedServer | None = None
    llm: StructuredLLM
    if not uses_model:
        llm = NoLLM()
    elif settings.embedded:
        server = EmbeddedServer(settings, resolve_model_path(settings))
        await server.start()
        llm = OpenAIStructuredLLM(settings, server.base_url, api_key=None)
    else:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        llm = OpenAIStructuredLLM(settings, settings.llm_base_url or "", api_key=key)
    try:
        yield Backend(llm=llm, embedded=server)
    finally:
        await llm.close()
        if server is not None:
            await server.stop()
