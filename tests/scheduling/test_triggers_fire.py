"""A cron that never fires is refused where schedules are validated (``scheduling.triggers``)."""

from __future__ import annotations

import pytest

from jupyter_flows.exceptions import ScheduleError
from jupyter_flows.orchestration.schemas import ScheduleSpec
from jupyter_flows.scheduling.triggers import fires_at_all, validate_schedule


@pytest.mark.parametrize("cron", ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4 *"])
def test_a_cron_that_never_fires_is_refused(cron: str) -> None:
    spec = ScheduleSpec(cron=cron)
    assert fires_at_all(spec) is False
    with pytest.raises(ScheduleError, match="never fires"):
        validate_schedule(spec)


@pytest.mark.parametrize("cron", ["0 6 * * *", "0 0 29 2 *", "0 0 29 2 mon"])
def test_rare_but_real_crons_pass(cron: str) -> None:
    spec = ScheduleSpec(cron=cron)
    assert fires_at_all(spec) is True
    validate_schedule(spec)
