"""The start-up warm-up of a web process (``tongban.warmup``)."""

import pytest

from tongban import warmup


def test_a_failing_step_is_logged_and_the_others_still_run(caplog):
    ran = []

    def broken():
        raise RuntimeError("no model")

    timings = warmup.warm_up(steps=(("broken", broken), ("next", lambda: ran.append("next"))))
    assert ran == ["next"]
    assert set(timings) == {"next"}
    assert "warm-up step broken failed" in caplog.text


@pytest.mark.django_db
def test_the_whole_warm_up_runs_on_an_empty_city(city):
    timings = warmup.warm_up()
    assert {"urls", "templates", "pdf font", "knowledge search", "blind spots", "indicators"} <= set(timings)


def test_the_next_warm_up_is_just_after_midnight_in_shanghai():
    assert 60 <= warmup._seconds_to_next_midnight() <= 24 * 3600 + 60


def test_the_warmed_heap_is_frozen_out_of_the_full_collections():
    import gc

    try:
        frozen = warmup.freeze_heap()
        # Frozen objects can still be freed (another thread of the test process drops one), never added to.
        assert frozen > 1000 and frozen * 0.99 <= gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()  # the test process's own objects go back to the collector
