"""Real databases for the store's tests: a SQLite file, and a PostgreSQL server started for
the session from Debian's binaries (`.ci/run` installs them)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class NoPostgres(Exception):
    """No PostgreSQL server binaries on this machine."""


def postgres_bin() -> Path:
    """The folder of initdb and pg_ctl (the newest installed major version)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise NoPostgres("no PostgreSQL server (initdb) here: apt-get install postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: under root, run it as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def postgres_server() -> Iterator[str]:
    """A fresh PostgreSQL cluster on a free loopback port; yields its SQLAlchemy URL."""
    bin_dir = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="newsfacts-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "newsfacts"]
    subprocess.run(_as_owner(initdb), check=True, capture_output=True, timeout=120)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
    start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
             str(root / "log"), "start"]  # fmt: skip
    subprocess.run(_as_owner(start), check=True, capture_output=True, timeout=120)
    try:
        createdb = [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                    "newsfacts", "newsfacts"]  # fmt: skip
        for _ in range(50):
            if subprocess.run(createdb, capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        yield f"postgresql+psycopg://newsfacts@127.0.0.1:{port}/newsfacts"
    finally:
        stop = [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(_as_owner(stop), capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
