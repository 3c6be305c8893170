"""Running JavaScript: host processes, and the supervisor that keeps them, in the server.

The package spans a process boundary. The server imports only the supervisor's side; a host is
started as ``python -m vortex.isolates.host`` and is the only process that imports pythonmonkey.
Nothing here imports aiohttp.

In the server (the supervisor):
    pool.py           IsolatePool, what the rest of the server calls: runs, checks, the
                      listener's hosts, stats; it wires the four modules below
    launcher.py       starting one host: its boot files, the turn clocks' directory, its cgroup
    fleet.py          the hosts' lives: active, spare, draining; replaced when they exit,
                      recycled after their runs or memory, retired to make room
    placement.py      which host runs what: least loaded, round-robin connections, dedicated
                      hosts per namespace, waiting for a host (host_wait)
    watchdog.py       the periodic look at every host: turns past their limits, pings, memory
    host_process.py   one host as the supervisor sees it: its pipes, frames in and out
    backstop.py       what the watchdog reads of a host (/proc, the turn clock) to kill a turn
                      it did not stop itself
    liveness.py       the watchdog's pings: a host that stops answering outside its turns (a
                      stopped process, a stuck loop) is replaced
    runrequests.py    a run's outbound fetch() and binding (KV) calls, answered for the host
    listener.py       the functions listener's front door: accept, read the Host, hand over
    handoff.py        connections on their way to a host (SCM_RIGHTS over a SEQPACKET pair)
    cgroups.py, cgroupfs.py, pids.py   memory cgroups per host; stale directories
    invocation.py, bindings.py, subrequests.py
                      a run as the supervisor tracks it, the bindings and outbound fetch it may
                      use

In a host:
    host.py           the process: boot (SES, web APIs, the harness), the turn clock's hooks,
                      the frame loop
    bridge.py         runs as the host keeps them: limits per run, records, what JavaScript
                      calls on the host
    httpserve.py      HTTP/1.1 of the listener's connections (httptools), answered by runs
    hostroutes.py, route.py   hostnames to functions, asked of the supervisor and kept
    interrupt.py      stopping a runaway turn from a CPU-time timer (SpiderMonkey's interrupt)
    growth.py         memory growth per run, turn by turn
    pressure.py       near its memory limit, the host ends the run growing it most itself
    idlegc.py, collection.py   collecting when idle; every collection asked beneath a
                      frame of JavaScript, which keeps the compiled code
    jobloop.py        pythonmonkey's promise jobs: a queue of their own, run at the end of
                      the turn of the run that queued them (the microtask checkpoint)
    js/               the JavaScript side: js/src/harness (runs, instances; its runtime.js
                      maps its modules) and js/src (the web APIs), bundled into js/dist

Between them (both sides import these):
    protocol.py       the frames over the pipes, one msgspec Struct per kind, in MessagePack
                      (bytes cross as bytes): which side sends each and why; each side decodes
                      only what the other may send, and anything else is a dead host
    turnclock.py      shared memory: the running turn, its run and CPU, the routes' counter,
                      the host's memory ceiling
    outcome.py        the error codes a run ends with
    exchange.py, limits.py   a request and a response head; a run's limits (and the
                      backstop's grace): carried in frames
"""
