"""The ASGI process's garbage collector: start-up objects frozen, long pauses logged."""

from __future__ import annotations

import gc
import logging

import pytest

from aircop import gc_pauses


@pytest.fixture
def pause_warnings():
    yield
    gc_pauses.log_long_pauses(0)
    if gc_pauses._on_collection in gc.callbacks:
        gc.callbacks.remove(gc_pauses._on_collection)


def test_a_collection_longer_than_the_threshold_is_logged_with_its_generation(
    pause_warnings, caplog
):
    gc_pauses.log_long_pauses(0.000001)
    with caplog.at_level(logging.WARNING, logger="aircop.gc_pauses"):
        gc.collect()
    assert any(
        record.getMessage().startswith("garbage collection of generation 2 held the process for")
        for record in caplog.records
    )


def test_no_warning_under_the_threshold_nor_when_it_is_off(pause_warnings, caplog):
    with caplog.at_level(logging.WARNING, logger="aircop.gc_pauses"):
        gc_pauses.log_long_pauses(60_000)
        gc.collect()
        gc_pauses.log_long_pauses(0)
        gc.collect()
    assert not caplog.records


def test_start_up_objects_are_frozen_out_of_the_collections():
    class StartUp:
        pass

    loaded = StartUp()
    frozen_before = gc.get_freeze_count()
    try:
        gc_pauses.freeze_start_up()
        assert gc.get_freeze_count() > frozen_before
        assert gc.is_tracked(loaded)
        assert not any(o is loaded for o in gc.get_objects())  # out of every generation
    finally:
        gc.unfreeze()
