"""Debian's nginx running the committed recipe (service/deploy/nginx.conf) in front of
given replicas, on a free loopback port: for the replica tests and the replica benchmark."""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from evals.bench.harness import ROOT, process
from service.ports import free_port

RECIPE = ROOT / "service" / "deploy" / "nginx.conf"


class NoNginx(RuntimeError):
    """nginx is not installed."""


def nginx_binary() -> str:
    """The nginx executable (Debian installs it in /usr/sbin)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found is None:
        raise NoNginx(
            "nginx is not installed: .ci/run installs Debian's nginx-light "
            "(apt-get install nginx-light)"
        )
    return found


def render(upstreams: list[str], port: int) -> str:
    """The recipe with its listen port and upstream servers replaced."""
    servers = "".join(
        f"        server {u.removeprefix('http://')} max_fails=1 fail_timeout=5s;\n"
        for u in upstreams
    )
    conf = RECIPE.read_text(encoding="utf-8")
    conf, listens = re.subn(r"listen 127\.0\.0\.1:\d+;", f"listen 127.0.0.1:{port};", conf)
    conf, ups = re.subn(r"(        server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, conf)
    if (listens, ups) != (1, 1):
        raise ValueError(f"{RECIPE}: its listen and upstream server lines moved")
    return conf


@contextlib.contextmanager
def nginx(upstreams: list[str], log: Path | None = None) -> Iterator[str]:
    """nginx in front of `upstreams` until the block ends; yields its base URL once it
    answers /readyz (through a replica)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="newsfacts-nginx-") as prefix:
        conf = Path(prefix) / "nginx.conf"
        conf.write_text(render(upstreams, port), encoding="utf-8")
        args = [nginx_binary(), "-c", str(conf), "-p", prefix, "-g", "daemon off;"]
        url = f"http://127.0.0.1:{port}"
        with contextlib.ExitStack() as stack:
            sink = stack.enter_context(log.open("wb")) if log else None
            stack.enter_context(process(args, f"{url}/readyz", log=sink, timeout=20))
            yield url
