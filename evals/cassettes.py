"""Recorded LLM traffic (vcrpy cassettes): one per article and prompt version.

Cassettes are JSON with request and response bodies stored as JSON objects, so a diff of a
re-recorded cassette reads like a diff of the model's answers. Requests are matched on
method, path and the parsed body: a changed prompt, schema, model or temperature is a
stale cassette, never a replay of an old answer. Keys, `Authorization` and any `sk-…`
string are scrubbed before anything is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vcr
from vcr.errors import CannotOverwriteExistingCassetteException

from evals.datasets import SEEDS, shown
from evals.gold_files import safe_id
from schemas.api import RecallPasses

CASSETTES_DIR = SEEDS.cassettes_dir
RECORD_COMMAND = "uv run newsfacts eval --record --prompt {prompt}"
SECRET = re.compile(r"sk-[A-Za-z0-9_\-]{8,}")
SECRET_HEADERS = ("authorization", "api-key", "x-api-key", "openai-organization", "cookie",
                  "set-cookie", "openai-project")  # fmt: skip
DROPPED_RESPONSE_HEADERS = ("content-length", "date", "server")


class StaleCassetteError(Exception):
    """A request had no recorded answer: the prompt, schema or settings changed."""


def cassette_path(prompt: str, article_id: str, root: Path = CASSETTES_DIR) -> Path:
    """Where the cassette of one article and prompt version lives (UnsafeIdError for an id
    that is not a plain file name: it would name a file outside `root`)."""
    return root / prompt / f"{safe_id(article_id)}.json"


def recorded_ms(cassette: Any) -> float | None:
    """The LLM time the played interactions took when they were recorded, from the
    server's `openai-processing-ms` header (llama.cpp and OpenAI send it); None when no
    played response carries it."""
    total, found = 0.0, False
    for i, response in enumerate(cassette.responses):
        if not cassette.play_counts[i]:
            continue
        value = response.get("headers", {}).get("openai-processing-ms")
        if value:
            total += float(value[0] if isinstance(value, list) else value)
            found = True
    return total if found else None


def _scrub_text(text: str) -> str:
    return SECRET.sub("sk-REDACTED", text)


def _scrub_request(request: Any) -> Any:
    for header in list(request.headers):
        if header.lower() in SECRET_HEADERS:
            del request.headers[header]
    if request.body:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        request.body = _scrub_text(body).encode()
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {
        k: v
        for k, v in response.get("headers", {}).items()
        if k.lower() not in SECRET_HEADERS + DROPPED_RESPONSE_HEADERS
    }
    # vcrpy also runs this hook on cassettes it loads, so the body keeps its type.
    body = response.get("body", {}).get("string")
    if isinstance(body, bytes):
        response["body"]["string"] = _scrub_text(body.decode("utf-8", "replace")).encode()
    elif isinstance(body, str):
        response["body"]["string"] = _scrub_text(body)
    return response


def _as_json(text: Any) -> Any:
    """A body as a JSON object when it parses, else the text itself."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        return {"json": json.loads(text)} if text else text
    except (TypeError, ValueError):
        return text


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"json"}:
        return json.dumps(value["json"], ensure_ascii=False)
    return value


class ReadableJsonSerializer:
    """vcrpy serializer: pretty JSON with bodies parsed, so cassettes read as data."""

    @staticmethod
    def serialize(cassette: dict[str, Any]) -> str:
        """Cassette dict → JSON text with request/response bodies as JSON objects."""
        for interaction in cassette["interactions"]:
            interaction["request"]["body"] = _as_json(interaction["request"]["body"])
            body = interaction["response"]["body"]
            body["string"] = _as_json(body.get("string"))
        return json.dumps(cassette, indent=1, ensure_ascii=False, sort_keys=True) + "\n"

    @staticmethod
    def deserialize(text: str) -> dict[str, Any]:
        """JSON text → the cassette dict vcrpy expects."""
        cassette = json.loads(text)
        for interaction in cassette["interactions"]:
            interaction["request"]["body"] = _from_json(interaction["request"]["body"])
            body = interaction["response"]["body"]
            body["string"] = _from_json(body.get("string"))
        return cassette


def _json_body(r1: Any, r2: Any) -> None:
    """vcrpy matcher: request bodies equal as parsed JSON (formatting ignored)."""

    def parsed(body: Any) -> Any:
        if isinstance(body, bytes):
            body = body.decode()
        try:
            return json.loads(body) if body else None
        except ValueError:
            return body

    assert parsed(r1.body) == parsed(r2.body), "request bodies differ"


def empty_cassette() -> str:
    """A cassette of no interactions, as vcrpy would write one: an article that asked
    nothing."""
    return ReadableJsonSerializer.serialize({"interactions": [], "version": 1})


def make_vcr(record: bool, keep_recorded: bool = False) -> vcr.VCR:
    """A VCR that records (overwriting, or keeping what the cassette holds and adding to it)
    or strictly replays (an unmatched request fails)."""
    recorder = vcr.VCR(
        record_mode=("new_episodes" if keep_recorded else "all") if record else "none",
        match_on=["method", "path", "json_body"],
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
        serializer="readable_json",
    )
    recorder.register_serializer("readable_json", ReadableJsonSerializer)
    recorder.register_matcher("json_body", _json_body)
    return recorder


@dataclass(frozen=True)
class Recording:
    """What a cassette set records: a prompt, with recall passes and the reask policy or not.

    Each changes the requests sent, so each has its own folder: `news_facts@v2+lists+reask`.
    """

    prompt: str
    passes: RecallPasses = "none"
    reask: bool = False
    dataset_option: str = ""  # " --dataset DIR" for a dataset other than the seeds

    @property
    def name(self) -> str:
        """The folder name under tests/cassettes/."""
        return self.prompt + ("+lists" if self.passes == "lists" else "") + ("+reask" * self.reask)

    @property
    def base(self) -> Recording | None:
        """The recording whose calls this one begins with (a re-ask follows a plain answer)."""
        return (
            Recording(self.prompt, self.passes, dataset_option=self.dataset_option)
            if self.reask
            else None
        )

    @property
    def command(self) -> str:
        """The command that (re)records it."""
        return (
            RECORD_COMMAND.format(prompt=self.prompt)
            + (f" --passes {self.passes}" if self.passes != "none" else "")
            + (" --ungrounded reask" if self.reask else "")
            + self.dataset_option
        )


def stale_message(recording: Recording, path: Path) -> str:
    """What to do about a request the cassette does not hold."""
    command = recording.command
    return (
        f"{shown(path)} has no recorded "
        "answer for this request (the prompt, schema, model or temperature changed, or it "
        f"was never recorded); re-record with: {command}"
    )


__all__ = [
    "CASSETTES_DIR",
    "CannotOverwriteExistingCassetteException",
    "Recording",
    "StaleCassetteError",
    "cassette_path",
    "make_vcr",
    "stale_message",
]
