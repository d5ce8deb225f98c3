"""Who runs next when every slot is busy: fair admission per client.

A slot is one extraction in flight. When every slot is busy, requests wait in a bounded
queue, and each client (the request's address: behind a proxy uvicorn's forwarded-for
handling gives the real one) may fill only its share of that queue, so one client cannot
leave another a 503. When a slot frees, the next to run is chosen in this order:
1. a single `/extract` before a batch item (a batch item waits behind every single);
2. the client with the fewest extractions running (so clients share the slots evenly);
3. the client whose last turn is longest ago (so they take turns even with one slot);
4. the earliest arrival.

A batch request takes one place in the queue for as long as it runs, however many
articles it carries (their number is bounded by NEWSFACTS_MAX_BATCH_ITEMS); its items
then wait for slots as above without taking more places.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from service.errors import Saturated


@dataclass(frozen=True)
class Requester:
    """Who asks for a slot: the client's key (its address) and whether the article is one
    item of a batch."""

    client: str = "local"
    batch: bool = False


LOCAL = Requester()  # work no HTTP client sent: the CLI, warm-up


@dataclass
class _Waiter:
    who: Requester
    arrival: int
    future: asyncio.Future[None]


class Admission:
    """Slots and a queue shared fairly between clients (see the module's docstring)."""

    def __init__(self, slots: int, queue: int, client_share: float) -> None:
        self.slots = slots
        self.queue = queue
        # A client's share of the queue: at least one place, so a lone client still queues.
        self.client_places = max(1, math.floor(queue * client_share))
        self.running: Counter[str] = Counter()
        self.places: Counter[str] = Counter()  # queue places held, per client
        self._waiters: list[_Waiter] = []
        self._arrivals = itertools.count()
        self._turns = itertools.count()
        self._last_turn: dict[str, int] = {}  # of the clients running or waiting

    @property
    def busy(self) -> int:
        """Extractions running now."""
        return sum(self.running.values())

    @property
    def waiting(self) -> int:
        """Requests holding a place in the queue (waiting singles, open batches)."""
        return sum(self.places.values())

    @property
    def saturated(self) -> bool:
        """Every slot busy and the queue full: a new request would be refused."""
        return self.busy >= self.slots and self.waiting >= self.queue

    def _refuse_unless_room(self, client: str) -> None:
        """Raise Saturated when the queue, or this client's share of it, is full."""
        if self.waiting >= self.queue:
            reason = f"{self.busy} extractions running and {self.waiting} waiting"
        elif self.places[client] >= self.client_places:
            reason = (
                f"this client already has {self.places[client]} requests waiting, its share "
                f"of the queue (NEWSFACTS_CLIENT_SHARE of NEWSFACTS_MAX_QUEUE={self.queue})"
            )
        else:
            return
        raise Saturated(f"{reason}; retry later", retry_after=5)

    @asynccontextmanager
    async def place(self, client: str) -> AsyncIterator[None]:
        """Hold one queue place for a batch request while it runs; Saturated when there is
        no room for this client."""
        self._refuse_unless_room(client)
        self.places[client] += 1
        try:
            yield
        finally:
            self._drop(self.places, client)

    @asynccontextmanager
    async def slot(self, who: Requester) -> AsyncIterator[None]:
        """Hold one slot for the block: at once when one is free and nobody waits, else
        after waiting in turn (a single holds a queue place while it waits)."""
        if self.busy < self.slots and not self._waiters:
            self._start(who.client)
        else:
            await self._wait(who)
        try:
            yield
        finally:
            self._drop(self.running, who.client)
            self._hand_over()

    async def _wait(self, who: Requester) -> None:
        """Queue until `_hand_over` gives this requester a slot (counted as running)."""
        if not who.batch:
            self._refuse_unless_room(who.client)
            self.places[who.client] += 1
        waiter = _Waiter(who, next(self._arrivals), asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            await waiter.future
        except BaseException:
            if waiter.future.done() and not waiter.future.cancelled():
                self._drop(self.running, who.client)  # given a slot, then cancelled
                self._hand_over()
            else:
                self._waiters.remove(waiter)
            raise
        finally:
            if not who.batch:
                self._drop(self.places, who.client)

    def _hand_over(self) -> None:
        """Give free slots to the waiters who come next (see the module's docstring)."""
        while self._waiters and self.busy < self.slots:
            nxt = min(
                self._waiters,
                key=lambda w: (
                    w.who.batch,
                    self.running[w.who.client],
                    self._last_turn.get(w.who.client, -1),
                    w.arrival,
                ),
            )
            self._waiters.remove(nxt)
            self._start(nxt.who.client)
            nxt.future.set_result(None)
        present = set(self.running) | {w.who.client for w in self._waiters}
        for client in [c for c in self._last_turn if c not in present]:
            del self._last_turn[client]

    def _start(self, client: str) -> None:
        """Count a slot given to `client`, and when."""
        self.running[client] += 1
        self._last_turn[client] = next(self._turns)

    @staticmethod
    def _drop(counter: Counter[str], client: str) -> None:
        counter[client] -= 1
        if counter[client] <= 0:
            del counter[client]
