"""codecs.py on its own: what a run opens goes when it ends, and a run cannot hoard streams."""

from __future__ import annotations

import gzip

from vortex.isolates.codecs import DONE, FAILED, STREAMS_PER_RUN, Codecs


def _open(codecs: Codecs, op: str = "compress") -> int:
    answer = codecs.call(op, 0, "gzip")
    assert answer[0] == DONE
    return int(answer[1:].decode())


def test_a_runs_streams_close_when_it_ends() -> None:
    owner = [1]
    codecs = Codecs(lambda: owner[0])
    mine = _open(codecs)
    owner[0] = 2
    theirs = _open(codecs)
    codecs.run_ended(1)
    closed = codecs.call("push", mine, "abc")
    assert closed[0] == FAILED and b"closed" in closed
    pushed = codecs.call("push", theirs, "abc")
    finished = codecs.call("finish", theirs, None)
    assert pushed[0] == finished[0] == DONE
    assert gzip.decompress(bytes(pushed[1:] + finished[1:])) == b"abc"


def test_a_run_may_hold_only_so_many_streams() -> None:
    codecs = Codecs(lambda: 7)
    for _ in range(STREAMS_PER_RUN):
        _open(codecs, "decompress")
    refused = codecs.call("compress", 0, "gzip")
    assert refused[0] == FAILED and b"Too many" in refused
    codecs.run_ended(7)
    _open(codecs)  # the count went with the run
