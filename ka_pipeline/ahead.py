"""Produce the next item of an iterator in a background thread while this one is used.

A large file is read, normalised and validated chunk by chunk (Python, pandas, Great
Expectations) and written chunk by chunk (DuckDB's engine or PostgreSQL's ``COPY``,
which do not hold the GIL). :func:`one_ahead` lets the two overlap on two cores.

Guarantees: items come in order; at most one item is produced ahead of the one in use,
so memory holds two items, never a queue of them; an exception raised by the iterator is
raised to the consumer at the item where it happened; when the consumer stops early (an
exception, ``break`` or ``close()``), the producer stops after the item it is making and
the thread is joined before the generator returns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


def one_ahead(items: Iterator[T], name: str = "ka-ahead") -> Iterator[T]:
    """Yield ``items`` in order, the next one produced in a thread meanwhile."""
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=1)
    turn = threading.Semaphore(1)  # taken per item produced, given back per item consumed
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                turn.acquire()
                if stop.is_set():
                    return
                item = next(items, _DONE)
                handoff.put((item, None))
                if item is _DONE:
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            handoff.put((_DONE, exc))

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item, error = handoff.get()
            turn.release()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        turn.release()
        while thread.is_alive():  # unblock a producer waiting to hand over an item
            try:
                handoff.get(timeout=0.05)
            except queue.Empty:
                pass
        thread.join()
        close = getattr(items, "close", None)
        if close is not None:
            close()
