// Ours, not WPT's. Hands the harness's results back as the run's output: the harness status
// and, per subtest, [name, status, message]; statuses are testharness.js's (0 PASS, 1 FAIL,
// 2 TIMEOUT, 3 NOTRUN, 4 PRECONDITION_FAILED). In a shell the harness has no timeout of its
// own, so a unit that hangs is timed out here: unfinished subtests become TIMEOUT.
let wptTestsStarted = false;
add_start_callback(() => {
  wptTestsStarted = true;
});
add_completion_callback((tests, status) => {
  Vortex.return({
    status: status.status,
    message: status.message,
    tests: tests.map((t) => [
      t.name,
      t.status,
      t.status === 0 ? null : String(t.message ?? "").slice(0, 400),
    ]),
  });
});
setTimeout(() => timeout(), WPT_UNIT.timeoutMs);
