"""Fair admission: who gets a free slot, who is refused, and what a cancelled waiter leaves."""

from __future__ import annotations

import asyncio

import pytest

from service.errors import Saturated
from service.extraction.admission import Admission, Requester

A, B = "A", "B"  # two clients


async def _order_served(
    slots: int, holders: list[Requester], waiters: list[Requester]
) -> list[str]:
    """Fill the slots with `holders`, queue `waiters` in order, then free the slots one at a
    time: the order in which the waiters got a slot, as 'client/kind'."""
    admission = Admission(slots, queue=100, client_share=1.0)
    release = asyncio.Event()
    served: list[str] = []

    async def hold(who: Requester, record: bool) -> None:
        async with admission.slot(who):
            if record:
                served.append(f"{who.client}/{'batch' if who.batch else 'single'}")
                await asyncio.sleep(0)
            else:
                await release.wait()

    held = [asyncio.create_task(hold(w, False)) for w in holders]
    await asyncio.sleep(0)
    queued = []
    for who in waiters:
        queued.append(asyncio.create_task(hold(who, True)))
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(*held, *queued)
    return served


@pytest.mark.parametrize(
    ("holders", "waiters", "expected"),
    [
        # a batch item waits behind another client's single, whoever came first
        ([Requester(A, True)], [Requester(A, True), Requester(B)], ["B/single", "A/batch"]),
        # two clients' batch items alternate, the one with fewer running first
        (
            [Requester(A, True)],
            [Requester(A, True), Requester(A, True), Requester(B, True), Requester(B, True)],
            ["B/batch", "A/batch", "B/batch", "A/batch"],
        ),
        # singles of one client keep their arrival order
        ([Requester(A)], [Requester(A), Requester(A, True), Requester(A)],
         ["A/single", "A/single", "A/batch"]),
        # the client with none running goes before one already running
        ([Requester(A)], [Requester(A), Requester(B)], ["B/single", "A/single"]),
    ],
    ids=["single-before-batch", "batches-alternate", "arrival-order", "fewest-running"],
)  # fmt: skip
def test_a_free_slot_goes_to_who_comes_next(
    holders: list[Requester], waiters: list[Requester], expected: list[str]
) -> None:
    assert asyncio.run(_order_served(1, holders, waiters)) == expected


@pytest.mark.parametrize(
    ("queue", "share", "mine", "refused_for_me", "refused_for_other"),
    [
        (8, 0.5, 4, True, False),  # my share full: I am refused, another client is not
        (8, 0.5, 3, False, False),
        (4, 1.0, 4, True, True),  # the whole queue full: everyone is refused
        (1, 0.1, 0, False, False),  # a share never rounds down to no place at all
    ],
)
def test_a_client_fills_only_its_share_of_the_queue(
    queue: int, share: float, mine: int, refused_for_me: bool, refused_for_other: bool
) -> None:
    async def scenario() -> tuple[bool, bool]:
        admission = Admission(1, queue, share)
        release = asyncio.Event()

        async def hold(who: Requester) -> None:
            async with admission.slot(who):
                await release.wait()

        tasks = [asyncio.create_task(hold(Requester(A))) for _ in range(mine + 1)]
        await asyncio.sleep(0.01)
        outcome = []
        for client in (A, B):
            try:
                async with admission.place(client):
                    outcome.append(False)
            except Saturated:
                outcome.append(True)
        release.set()
        await asyncio.gather(*tasks)
        return outcome[0], outcome[1]

    assert asyncio.run(scenario()) == (refused_for_me, refused_for_other)


def test_a_cancelled_waiter_leaves_no_trace_and_the_load_adds_up() -> None:
    async def scenario() -> list[tuple[int, int]]:
        admission = Admission(1, 4, 1.0)
        release = asyncio.Event()
        seen = []

        async def hold(who: Requester) -> None:
            async with admission.slot(who):
                await release.wait()

        first = asyncio.create_task(hold(Requester(A)))
        second = asyncio.create_task(hold(Requester(B)))
        await asyncio.sleep(0.01)
        seen.append((admission.busy, admission.waiting))
        second.cancel()
        await asyncio.sleep(0.01)
        seen.append((admission.busy, admission.waiting))
        release.set()
        await first
        seen.append((admission.busy, admission.waiting))
        return seen

    assert asyncio.run(scenario()) == [(1, 1), (1, 0), (0, 0)]
