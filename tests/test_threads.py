"""Work off the event loop stops when its request is gone: the parse between components and
while waiting its turn, and a cancelled caller holds on until the thread has returned."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from service.candidates.nlp import parse
from service.errors import Stopped
from service.extraction.threads import off_loop

RAN: list[str] = []
STOP = threading.Event()
GATE = threading.Event()


@Language.component("test_stops_the_parse")
def stops_the_parse(doc: Doc) -> Doc:
    """Record the call, then ask for a stop (as a request hanging up mid-parse would)."""
    RAN.append("first")
    STOP.set()
    return doc


@Language.component("test_records")
def records(doc: Doc) -> Doc:
    """Record the call."""
    RAN.append("second")
    return doc


@Language.component("test_waits_at_the_gate")
def waits_at_the_gate(doc: Doc) -> Doc:
    """Hold the parse (and so its turn) until the gate opens."""
    RAN.append("gate")
    GATE.wait(10)
    return doc


@pytest.fixture(autouse=True)
def _reset() -> None:
    RAN.clear()
    STOP.clear()
    GATE.clear()


def test_a_stop_during_the_parse_skips_the_components_after_it() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("test_stops_the_parse")
    nlp.add_pipe("test_records")
    with pytest.raises(Stopped):
        parse("Ten people were killed.", nlp, stop=STOP)
    assert RAN == ["first"]


def test_a_parse_waiting_its_turn_gives_it_up_when_stopped() -> None:
    slow, quick = spacy.blank("en"), spacy.blank("en")
    slow.add_pipe("test_waits_at_the_gate")
    quick.add_pipe("test_records")
    holder = threading.Thread(target=parse, args=("One.", slow))
    holder.start()
    while "gate" not in RAN:
        time.sleep(0.01)
    outcome: list[str] = []

    def waiter() -> None:
        try:
            parse("Two.", quick, stop=STOP)
            outcome.append("parsed")
        except Stopped:
            outcome.append("stopped")

    second = threading.Thread(target=waiter)
    second.start()
    time.sleep(0.2)
    STOP.set()
    second.join(5)
    GATE.set()
    holder.join(5)
    assert outcome == ["stopped"] and "second" not in RAN


def test_a_cancelled_caller_waits_for_its_thread_to_return() -> None:
    finished = threading.Event()

    def work(stop: threading.Event) -> str:
        stop.wait(10)
        time.sleep(0.2)  # the step in progress when the stop came
        finished.set()
        raise Stopped

    async def scenario() -> bool:
        task = asyncio.create_task(off_loop(work))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return finished.is_set()

    assert asyncio.run(scenario()) is True


def test_off_loop_returns_the_work_and_raises_its_errors() -> None:
    assert asyncio.run(off_loop(lambda stop: 6 * 7)) == 42
    with pytest.raises(ZeroDivisionError):
        asyncio.run(off_loop(lambda stop: 1 / 0))
