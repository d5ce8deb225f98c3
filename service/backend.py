"""Build the LLM client from settings: an OpenAI-compatible endpoint or the embedded server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from service.embedded import EmbeddedServer, resolve_model_path
from service.llm import OpenAIStructuredLLM
from service.protocol import StructuredLLM
from service.settings import Settings


@dataclass
class Backend:
    """The LLM the pipeline talks to, and the embedded server behind it if there is one."""

    llm: StructuredLLM
    embedded: EmbeddedServer | None = None


@asynccontextmanager
async def open_backend(settings: Settings) -> AsyncIterator[Backend]:
    """Yield a ready backend; starts (and later stops) the embedded server when configured."""
    server: EmbeddedServer | None = None
    if settings.embedded:
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
