"""GET /metrics: scraped and parsed as Prometheus would (prometheus_text.py). Counters move by exactly
the requests sent, histograms hold their invariants, gauges show the pool while every execution slot
is busy, the engine's counters (kills, zygote forks and respawns, sandbox failures) come through,
and label values are escaped."""

import math
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from prometheus_text import Scrape, check_histogram, deltas, labels
from test_concurrency import BUSY_LOOP, SLEEP_SCRIPT, TRIVIAL, descendant_processes, wait_until_running

MEMORY_BOMB = "def main():\n    b = []\n    while True:\n        b.append(bytearray(50 << 20))\n"
RAISES = "def main():\n    raise ValueError('no')\n"

EXPECTED_FAMILIES = {
    "stacksync_build_info": "gauge",
    "stacksync_available": "gauge",
    "stacksync_http_requests_total": "counter",
    "stacksync_execution_seconds": "histogram",
    "stacksync_queue_wait_seconds": "histogram",
    "stacksync_executions_in_flight": "gauge",
    "stacksync_execution_queue_depth": "gauge",
    "stacksync_execution_slots": "gauge",
    "stacksync_execution_queue_capacity": "gauge",
    "stacksync_engine_runs_total": "counter",
    "stacksync_engine_outcomes_total": "counter",
    "stacksync_sandbox_failures_total": "counter",
    "stacksync_memory_limit_kills_total": "counter",
    "stacksync_time_limit_kills_total": "counter",
    "stacksync_warm_pool_size": "gauge",
    "stacksync_zygote_forks_total": "counter",
    "stacksync_zygote_starts_total": "counter",
    "stacksync_zygote_respawns_total": "counter",
    "process_resident_memory_bytes": "gauge",
    "process_open_fds": "gauge",
}


def scrape(server):
    response = server.request("GET", "/metrics")
    assert response.status == 200, response
    return Scrape.parse(response.body.decode("utf-8"))


def settled_scrape(server, timeout=10):
    """A scrape taken once nothing but scrapes moves: earlier tests' requests (a client that
    gave up, a connection being closed) are all counted, so deltas from here are ours alone."""
    deadline = time.monotonic() + timeout
    previous = scrape(server)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        current = scrape(server)
        moved = deltas(previous, current, "stacksync_http_requests_total")
        if moved == {labels(route="/metrics", status="200", error_type="none"): 1} and (
            current.value("stacksync_executions_in_flight") == 0
        ):
            return current
        previous = current
    pytest.fail("the server never went quiet")


def test_metrics_is_prometheus_text_with_every_family(server):
    response = server.request("GET", "/metrics")
    assert response.status == 200
    media_type, *parameters = [part.strip() for part in response.headers["Content-Type"].split(";")]
    assert media_type == "text/plain"
    assert "version=0.0.4" in parameters
    result = Scrape.parse(response.body.decode("utf-8"))
    for name, kind in EXPECTED_FAMILIES.items():
        assert name in result.families, f"{name} missing"
        assert result.families[name].type == kind, result.families[name]
    for family in result.families.values():
        assert family.type is not None and family.help, f"{family.name} lacks TYPE or HELP"
        if family.type == "counter":
            assert family.name.endswith("_total")
            assert all(value >= 0 and math.isfinite(value) for _, _, value in family.samples)
    mode = server.startup["mode"]
    assert result.value("stacksync_build_info", version=server.startup["version"], mode=mode) == 1
    assert result.value("stacksync_available") == 1
    assert "stacksync_unavailable_info" not in result.families
    config = server.startup["config"]
    assert result.value("stacksync_execution_slots") == config["maxConcurrency"]
    assert result.value("stacksync_execution_queue_capacity") == config["queueSize"]
    assert result.value("stacksync_warm_pool_size") == (1 if mode == "warm" else 0)
    assert result.value("process_open_fds") > 0
    # The process's own figures, as /proc shows them (RSS within a factor 2: it moves).
    rss = result.value("process_resident_memory_bytes")
    with open(f"/proc/{server.process.pid}/status") as status:
        proc_rss = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    assert proc_rss / 2 < rss < proc_rss * 2


def test_counters_move_by_exactly_the_requests_sent(server):
    before = settled_scrape(server)
    sent = [
        (server.execute(TRIVIAL), 200),
        (server.execute(TRIVIAL), 200),
        (server.execute(TRIVIAL), 200),
        (server.execute(RAISES), 400),
        (server.execute(RAISES), 400),
        (server.request("GET", "/healthz"), 200),
        (server.request("GET", "/healthz"), 200),
        (server.request("GET", "/no-such-page"), 404),
        (server.request("GET", "/no-such-page-either"), 404),
        (server.request("DELETE", "/metrics"), 405),
        (server.request("POST", "/execute", b'{"script": 1}', {"Content-Type": "application/json"}), 400),
        (server.request("POST", "/execute", b"x" * ((1 << 20) + 1), {"Content-Type": "application/json"}), 413),
    ]
    for response, status in sent:
        assert response.status == status, response
    after = scrape(server)

    assert deltas(before, after, "stacksync_http_requests_total") == {
        labels(route="/execute", status="200", error_type="none"): 3,
        labels(route="/execute", status="400", error_type="runtime_error"): 2,
        labels(route="/healthz", status="200", error_type="none"): 2,
        # Unknown paths share one label value: clients cannot mint series.
        labels(route="other", status="404", error_type="not_found"): 2,
        labels(route="/metrics", status="405", error_type="method_not_allowed"): 1,
        labels(route="/execute", status="400", error_type="invalid_request"): 1,
        labels(route="/execute", status="413", error_type="payload_too_large"): 1,
        # The first scrape, counted once it was answered.
        labels(route="/metrics", status="200", error_type="none"): 1,
    }
    # Five scripts ran: the engine, the histograms and (warm mode) the zygote saw exactly those.
    assert deltas(before, after, "stacksync_engine_runs_total") == {frozenset(): 5}
    assert deltas(before, after, "stacksync_engine_outcomes_total") == {
        labels(type="none"): 3,
        labels(type="runtime_error"): 2,
    }
    assert after.value("stacksync_execution_seconds_count") - before.value("stacksync_execution_seconds_count") == 5
    assert after.value("stacksync_queue_wait_seconds_count") - before.value("stacksync_queue_wait_seconds_count") == 5
    forks = after.value("stacksync_zygote_forks_total") - before.value("stacksync_zygote_forks_total")
    assert forks == (5 if server.startup["mode"] == "warm" else 0)
    for unchanged in ("stacksync_time_limit_kills_total", "stacksync_memory_limit_kills_total",
                      "stacksync_sandbox_failures_total", "stacksync_zygote_starts_total"):
        assert deltas(before, after, unchanged) == {}, unchanged


def test_histograms_hold_their_invariants(server):
    before = scrape(server)
    assert server.execute(SLEEP_SCRIPT.format(seconds=0.3)).status == 200
    after = scrape(server)
    for name in ("stacksync_execution_seconds", "stacksync_queue_wait_seconds"):
        buckets, total, count = after.histogram(name)
        bounds = [bound for bound, _ in buckets]
        assert bounds[0] == 0.001 and bounds[-2] == 10, bounds  # 1 ms .. 10 s
        # The sum lies between what the bucket bounds allow.
        low = high = 0.0
        previous_bound, previous_count = 0.0, 0
        for bound, cumulative in buckets:
            in_bucket = cumulative - previous_count
            low += in_bucket * previous_bound
            high += in_bucket * bound if in_bucket else 0.0  # (0 x +Inf is NaN)
            previous_bound, previous_count = bound, cumulative
        assert low - 1e-6 <= total <= high + 1e-6, (name, low, total, high)

    # The 0.3 s script landed above 0.25 s, and added at least 0.3 s to the sum.
    old_buckets, old_sum, old_count = before.histogram("stacksync_execution_seconds")
    new_buckets, new_sum, new_count = after.histogram("stacksync_execution_seconds")
    moved = {bound: new - old for (bound, old), (_, new) in zip(old_buckets, new_buckets)}
    assert new_count - old_count == 1
    assert moved[0.25] == 0 and moved[math.inf] == 1, moved
    assert new_sum - old_sum >= 0.3


def test_gauges_and_kills_while_every_slot_is_busy(start_server):
    # 3 s: room for the bomb to reach its memory limit even where sandbox setup is slow (cold mode
    # under ThreadSanitizer spends about 1.1 s of the wall-clock budget before python starts).
    busy = start_server("--max-concurrency", "1", "--queue-size", "2", "--time-limit", "3s")
    before = scrape(busy)
    with ThreadPoolExecutor(max_workers=2) as pool:
        looping = pool.submit(busy.execute, BUSY_LOOP)
        wait_until_running(busy, 1)
        bomb = pool.submit(busy.execute, MEMORY_BOMB)
        deadline = time.monotonic() + 5
        while busy.request("GET", "/healthz").json()["load"]["waiting"] < 1:
            assert time.monotonic() < deadline, "the second request never queued"
            time.sleep(0.02)
        # The only slot is taken and a request waits: /metrics and /healthz still answer at once.
        started = time.monotonic()
        during = scrape(busy)
        took = time.monotonic() - started
        assert took < 0.5, f"/metrics took {took:.2f} s"
        assert during.value("stacksync_executions_in_flight") == 1
        assert during.value("stacksync_execution_queue_depth") == 1
        looping_body = looping.result(timeout=30).json()
        assert looping_body["type"] == "timeout", looping_body
        bomb_body = bomb.result(timeout=30).json()
        assert bomb_body["type"] == "memory_limit", bomb_body
    # The worker counts itself done just after handing over the answer: allow it that moment.
    deadline = time.monotonic() + 5
    while (after := scrape(busy)).value("stacksync_executions_in_flight") != 0:
        assert time.monotonic() < deadline, "an execution stayed in flight"
        time.sleep(0.02)
    assert after.value("stacksync_execution_queue_depth") == 0
    assert deltas(before, after, "stacksync_time_limit_kills_total") == {frozenset(): 1}
    assert deltas(before, after, "stacksync_memory_limit_kills_total") == {frozenset(): 1}
    # The bomb waited for the loop's 3 s: its queue wait is in a bucket above 1 s.
    buckets, _, _ = after.histogram("stacksync_queue_wait_seconds")
    assert dict(buckets)[1] == 1 and dict(buckets)[math.inf] == 2, buckets


def test_a_dead_zygote_is_counted_as_a_respawn(start_server):
    if os.environ.get("STACKSYNC_MODE", "warm") != "warm":
        pytest.skip("cold mode has no zygote")
    warm = start_server()
    before = scrape(warm)
    assert before.value("stacksync_warm_pool_size") == 1
    starts = before.value("stacksync_zygote_starts_total")
    assert starts >= 1
    # The zygote is the only child of its sandbox's init, the server's child.
    inits = [pid for pid in descendant_processes(warm.process.pid) if is_child_of(pid, warm.process.pid)]
    zygotes = [pid for pid in descendant_processes(warm.process.pid) if parent_of(pid) in inits]
    assert len(zygotes) == 1, (inits, zygotes)
    os.kill(zygotes[0], signal.SIGKILL)

    deadline = time.monotonic() + 60
    while True:
        after = scrape(warm)
        if after.value("stacksync_zygote_starts_total") > starts and after.value("stacksync_warm_pool_size") == 1:
            break
        assert time.monotonic() < deadline, "no new zygote"
        time.sleep(0.1)
    assert deltas(before, after, "stacksync_zygote_respawns_total") == {frozenset(): 1}
    assert warm.execute(TRIVIAL).status == 200


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None


def is_child_of(pid, parent):
    return parent_of(pid) == parent


def test_label_values_are_escaped(start_server, tmp_path):
    """The interpreter path is the operator's, and may hold any character: with one that does not
    exist, the startup failure's reason carries it into a label value, escaped."""
    odd = tmp_path / 'quote"back\\slash\nnewline' / "python3"
    unavailable = start_server("--python", str(odd))
    reason = unavailable.request("GET", "/healthz").json()["reason"]
    assert str(odd) in reason

    response = unavailable.request("GET", "/metrics")
    text = response.body.decode("utf-8")
    assert 'quote\\"back\\\\slash\\nnewline' in text  # the escaped form, on one line
    result = Scrape.parse(text)
    assert result.value("stacksync_unavailable_info", reason=reason) == 1
    assert result.value("stacksync_available") == 0


def test_metrics_family_order_is_stable_and_parses_on_head(server):
    first = server.request("GET", "/metrics").body.decode()
    second = server.request("GET", "/metrics").body.decode()
    names = lambda text: [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert names(first) == names(second)
    connection = server.connection()
    try:
        connection.request("HEAD", "/metrics")
        raw = connection.getresponse()
        assert raw.status == 200 and raw.read() == b""
        assert raw.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    finally:
        connection.close()
    for family in Scrape.parse(first).families.values():
        if family.type == "histogram":
            check_histogram(family)
