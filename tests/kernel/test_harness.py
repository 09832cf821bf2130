"""The kernel harness matches each reply to its own request, whatever else is queued."""

from __future__ import annotations

import pytest

from tests.kernel.conftest import KernelSession


class TestReplies:
    def test_a_stale_kernel_info_reply_does_not_pass_for_a_failing_cell(
        self, kernel: KernelSession
    ) -> None:
        kernel.kc.kernel_info()  # as wait_for_ready does under load: a reply nobody reads
        r = kernel.run("1 / 0")
        assert (r.reply_type, r.status, r.ename) == ("execute_reply", "error", "ZeroDivisionError")
        with pytest.raises(AssertionError, match="ZeroDivisionError"):
            kernel.ok("1 / 0")

    def test_another_requests_output_and_reply_are_not_collected(
        self, kernel: KernelSession
    ) -> None:
        other = kernel.start("print('other')\n'other value'")
        r = kernel.ok("print('mine')\n'my value'")
        assert (r.stdout, r.value) == ("mine\n", "'my value'")
        assert r.reply["parent_header"]["msg_id"] != other
        assert r.reply["content"]["execution_count"] > 0

    def test_collect_waits_for_a_request_sent_earlier(self, kernel: KernelSession) -> None:
        msg_id = kernel.start("import time\ntime.sleep(0.2)\nprint('late')")
        r = kernel.collect(msg_id)
        assert (r.status, r.stdout) == ("ok", "late\n")
        assert r.reply["parent_header"]["msg_id"] == msg_id
