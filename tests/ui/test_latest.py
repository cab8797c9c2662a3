"""Latest request wins: a newer request stops the older one, and the older one's answers are ignored."""

from __future__ import annotations

import asyncio

from desktop_app.core.errors import Cancelled, UserError
from desktop_app.ui.job_center import Job, JobCenter
from desktop_app.ui.latest import LatestRequest


async def until_cancelled(job: Job) -> None:
    """Work that runs until its job is stopped, then says so as a job does."""
    while not job.cancel_token.cancelled:
        await asyncio.sleep(0.01)
    job.cancel_token.raise_if_cancelled()


def test_a_new_request_makes_older_tickets_stale_and_their_callbacks_silent() -> None:
    latest = LatestRequest()
    seen: list[str] = []
    first = latest.begin()
    late = first.only(seen.append)
    second = latest.begin()
    late("first")
    second.only(seen.append)("second")
    assert (first.current, second.current, seen) == (False, True, ["second"])
    latest.drop()
    assert not second.current


async def test_starting_a_request_cancels_the_running_one_and_ignores_its_answer(qtbot: object) -> None:
    center, latest = JobCenter(), LatestRequest()
    errors: list[UserError] = []
    done: list[str] = []
    ended: list[str] = []

    async def slow(job: Job) -> str:
        await until_cancelled(job)
        return "slow"

    async def quick(job: Job) -> str:
        return "quick"

    first = latest.start(
        center, "First", slow, on_error=errors.append, on_ended=lambda: ended.append("first")
    )
    second = latest.start(
        center, "Second", quick, on_done=done.append, on_ended=lambda: ended.append("second")
    )
    assert first.cancel_token.cancelled and latest.job is second
    await asyncio.wait([first.task, second.task])  # type: ignore[list-item]
    assert (done, errors, ended, latest.running) == (["quick"], [], ["second"], False)


async def test_stop_keeps_the_answer_of_the_latest_request(qtbot: object) -> None:
    center, latest = JobCenter(), LatestRequest()
    errors: list[UserError] = []

    async def slow(job: Job) -> None:
        await until_cancelled(job)

    job = latest.start(center, "Slow", slow, on_error=errors.append)
    latest.stop()
    await asyncio.wait([job.task])  # type: ignore[list-item]
    assert len(errors) == 1 and isinstance(errors[0], Cancelled)
