"""Running JavaScript: host processes, and the supervisor that keeps them, in the server.

The package spans a process boundary. The server imports only the supervisor's side; a host is
started as ``python -m vortex.isolates.host`` and is the only process that imports pythonmonkey.
Nothing here imports aiohttp.

In the server (the supervisor):
    pool.py           the host processes: spares, dispatch of runs, recycling, dedicated hosts,
                      and the watchdog's loop
    host_process.py   one host as the supervisor sees it: its pipes, frames in and out
    backstop.py       what the watchdog reads of a host (/proc, the turn clock) to kill a turn
                      it did not stop itself
    runrequests.py    a run's outbound fetch() and binding (KV) calls, answered for the host
    listener.py       the functions listener's front door: accept, read the Host, hand over
    handoff.py        connections on their way to a host (SCM_RIGHTS over a SEQPACKET pair)
    cgroups.py, cgroupfs.py, pids.py   memory cgroups per host; stale directories
    invocation.py, limits.py, bindings.py, subrequests.py, exchange.py
                      a run as the supervisor tracks it, its limits (and the backstop's grace),
                      the bindings and outbound fetch it may use, a request's shape

In a host:
    host.py           the process: boot (SES, web APIs, harness.js), the turn clock's hooks,
                      the frame loop
    bridge.py         runs as the host keeps them: limits per run, records, what JavaScript
                      calls on the host
    httpserve.py      HTTP/1.1 of the listener's connections (httptools), answered by runs
    hostroutes.py, route.py   hostnames to functions, asked of the supervisor and kept
    interrupt.py      stopping a runaway turn from a CPU-time timer (SpiderMonkey's interrupt)
    growth.py         memory growth per run, turn by turn
    jobloop.py        pythonmonkey's promise jobs on asyncio's loop
    harness.js, js/   the JavaScript side: runs, instances, the web APIs

Between them (both sides import these):
    frames.py         length-prefixed orjson frames over the pipes (a frame's kind is its "t")
    turnclock.py      shared memory: the running turn, its run and CPU, the routes' counter
    outcome.py        the error codes a run ends with
"""
