"""The fake's OpenAI Batch API: `/v1/files` and `/v1/batches` as OpenAI speaks them.

A batch is `in_progress` for `delay_s` after it is created, then `completed` (or `expired`
after its first `expire_after` lines): each line is answered as the fake would answer it
live, the answers in an output file, the failures in an error file.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

EXPIRED = {
    "code": "batch_expired",
    "message": "This request could not be executed before the completion window expired.",
}


@dataclass
class FakeBatches:
    """Files and batches; `answer(body)` is the fake's live answer, (status, body)."""

    answer: Callable[[dict[str, Any]], tuple[int, Any]]
    delay_s: float = 0.5
    expire_after: int | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)  # batch ids, in the order created
    hang_at: set[str] = field(default_factory=set)  # stages whose requests never answer
    reached: set[str] = field(default_factory=set)  # stages some request has reached
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def routes(self) -> list[Route]:
        """The API's routes, to add to the fake's app."""
        return [
            Route("/v1/files", self._upload, methods=["POST"]),
            Route("/v1/files/{file_id}/content", self._content, methods=["GET"]),
            Route("/v1/batches", self._create, methods=["POST"]),
            Route("/v1/batches", self._list, methods=["GET"]),
            Route("/v1/batches/{batch_id}", self._retrieve, methods=["GET"]),
        ]

    def _file(self, content: bytes, name: str, purpose: str) -> dict[str, Any]:
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = content
        return {"id": file_id, "object": "file", "bytes": len(content), "created_at": 0,
                "filename": name, "purpose": purpose, "status": "processed"}  # fmt: skip

    async def _upload(self, request: Request) -> JSONResponse:
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            head + await request.body()
        )
        parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
        upload = parts["file"]
        purpose = str(parts["purpose"].get_content()).strip()
        with self._lock:
            meta = self._file(upload.get_content(), upload.get_filename() or "upload", purpose)
        await self._stage("upload")
        return JSONResponse(meta)

    async def _content(self, request: Request) -> Response:
        await self._stage("download")
        content = self.files.get(request.path_params["file_id"])
        if content is None:
            return JSONResponse({"error": {"message": "no such file"}}, status_code=404)
        return Response(content, media_type="application/octet-stream")

    async def _create(self, request: Request) -> JSONResponse:
        body = await request.json()
        if body.get("input_file_id") not in self.files:
            return JSONResponse({"error": {"message": "no such input file"}}, status_code=400)
        with self._lock:
            batch_id = f"batch_{len(self.batches) + 1}"
            lines = self.files[body["input_file_id"]].decode().splitlines()
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": body["endpoint"],
                "input_file_id": body["input_file_id"], "completion_window": "24h",
                "created_at": int(time.time()), "status": "validating",
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                "output_file_id": None, "error_file_id": None, "_ready": time.monotonic()
                + self.delay_s, "metadata": body.get("metadata"),
            }  # fmt: skip
            self.created.append(batch_id)
        await self._stage("create")
        return JSONResponse(self._public(self.batches[batch_id]))

    async def _list(self, request: Request) -> JSONResponse:
        """The batches, newest first, as OpenAI lists them (one page)."""
        data = [self._public(self.batches[b]) for b in reversed(self.created)]
        return JSONResponse({"object": "list", "data": data, "has_more": False,
                             "first_id": data[0]["id"] if data else None,
                             "last_id": data[-1]["id"] if data else None})  # fmt: skip

    async def _stage(self, name: str) -> None:
        """Mark that a request reached stage `name`; hang there when told to (a test then
        kills the client at that exact point)."""
        self.reached.add(name)
        while name in self.hang_at:
            await asyncio.sleep(0.05)

    def _public(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in batch.items() if not k.startswith("_")}

    async def _retrieve(self, request: Request) -> JSONResponse:
        batch = self.batches.get(request.path_params["batch_id"])
        if batch is None:
            return JSONResponse({"error": {"message": "no such batch"}}, status_code=404)
        await self._stage(f"poll-{batch['status']}")
        with self._lock:
            if batch["status"] == "validating":
                batch["status"] = "in_progress"
            elif batch["status"] == "in_progress" and time.monotonic() >= batch["_ready"]:
                self._finish(batch)
        return JSONResponse(self._public(batch))

    def _finish(self, batch: dict[str, Any]) -> None:
        """Answer every line as the fake answers live; write the output and error files."""
        outputs, errors = [], []
        lines = [json.loads(x) for x in self.files[batch["input_file_id"]].decode().splitlines()]
        for i, line in enumerate(lines):
            if self.expire_after is not None and i >= self.expire_after:
                errors.append({"id": f"req_{i}", "custom_id": line["custom_id"],
                               "response": None, "error": EXPIRED})  # fmt: skip
                continue
            status, body = self.answer(line["body"])
            row = {"id": f"req_{i}", "custom_id": line["custom_id"],
                   "response": {"status_code": status, "request_id": f"r{i}", "body": body},
                   "error": None}  # fmt: skip
            (outputs if status == 200 else errors).append(row)
        counts = batch["request_counts"]
        counts["completed"], counts["failed"] = len(outputs), len(errors)
        for rows, key in ((outputs, "output_file_id"), (errors, "error_file_id")):
            if rows:
                text = "".join(json.dumps(r) + "\n" for r in rows).encode()
                batch[key] = self._file(text, f"{batch['id']}-{key}.jsonl", "batch_output")["id"]
        batch["status"] = "expired" if self.expire_after is not None else "completed"
