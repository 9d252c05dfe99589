"""ka_pipeline.ahead.one_ahead: the next chunk is made while this one is written."""

from __future__ import annotations

import threading
import time

import pytest

from ka_pipeline.ahead import one_ahead


def test_items_in_order_and_the_next_one_made_meanwhile() -> None:
    made: list[int] = []

    def items():
        for i in range(5):
            made.append(i)
            yield i

    seen = []
    for item in one_ahead(items()):
        time.sleep(0.05)  # "writing" this item: the next one is made meanwhile
        seen.append((item, list(made)))
    assert [item for item, _ in seen] == [0, 1, 2, 3, 4]
    # while item k is in use, item k+1 is already made, and never item k+2
    assert [len(done) for _, done in seen] == [2, 3, 4, 5, 5]


def test_never_more_than_one_item_ahead_of_a_slow_consumer() -> None:
    made: list[int] = []

    def items():
        for i in range(100):
            made.append(i)
            yield i

    stream = one_ahead(items())
    assert next(stream) == 0
    time.sleep(0.2)  # a slow write: the producer waits after one item, not a queue
    assert made == [0, 1]
    assert next(stream) == 1
    time.sleep(0.1)
    assert made == [0, 1, 2]
    stream.close()


def test_an_error_of_the_producer_is_raised_at_its_item() -> None:
    def items():
        yield 1
        yield 2
        raise ValueError("row 3: cut off")

    seen = []
    with pytest.raises(ValueError, match="row 3: cut off"):
        for item in one_ahead(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_a_consumer_that_stops_early_stops_and_joins_the_producer() -> None:
    closed = threading.Event()

    def items():
        try:
            yield from range(1000)
        finally:
            closed.set()

    before = threading.active_count()
    with pytest.raises(RuntimeError, match="write failed"):
        for item in one_ahead(items()):
            if item == 2:
                raise RuntimeError("write failed")
    assert closed.is_set()  # the iterator was closed (its finally ran)
    assert threading.active_count() == before  # the thread is gone


def test_an_empty_iterator() -> None:
    assert list(one_ahead(iter([]))) == []
