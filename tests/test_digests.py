"""digests.py on its own: what a run opens goes when it ends, and a run cannot hoard streams."""

from __future__ import annotations

import hashlib

from vortex.isolates.digests import DONE, FAILED, STREAMS_PER_RUN, Digests


def _open(digests: Digests, algorithm: str = "SHA-256") -> int:
    answer = digests.call("open", 0, algorithm)
    assert answer[0] == DONE
    return int(answer[1:].decode())


def test_a_runs_streams_close_when_it_ends() -> None:
    owner = [1]
    digests = Digests(lambda: owner[0])
    mine = _open(digests)
    owner[0] = 2
    theirs = _open(digests, "MD5")
    digests.run_ended(1)
    closed = digests.call("update", mine, memoryview(b"abc"))
    assert closed[0] == FAILED and b"closed" in closed
    assert digests.call("update", theirs, memoryview(b"ab"))[0] == DONE
    assert digests.call("update", theirs, memoryview(b"c"))[0] == DONE
    finished = digests.call("finish", theirs, None)
    assert finished[0] == DONE and bytes(finished[1:]) == hashlib.md5(b"abc").digest()
    assert digests.call("finish", theirs, None)[0] == FAILED  # finished is closed


def test_a_run_may_hold_only_so_many_streams() -> None:
    digests = Digests(lambda: 7)
    for _ in range(STREAMS_PER_RUN):
        _open(digests)
    refused = digests.call("open", 0, "SHA-1")
    assert refused[0] == FAILED and b"Too many" in refused
    digests.run_ended(7)
    _open(digests)  # the count went with the run


def test_refusals_carry_no_python_text() -> None:
    digests = Digests(lambda: 1)
    assert digests.call("open", 0, "SHA-3")[0] == FAILED
    handle = _open(digests)
    wrong = digests.call("update", handle, "text")
    assert wrong[0] == FAILED and bytes(wrong[1:]) == b"The chunk is not bytes"
