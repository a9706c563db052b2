"""Graceful shutdown: on SIGTERM/SIGINT the server stops accepting, answers what is in flight
(running or queued), turns /healthz to 503, closes idle connections, and exits 0."""

import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from test_concurrency import SLEEP_SCRIPT, wait_until_running


def test_sigterm_drains_in_flight_requests_and_exits_0(start_server):
    draining = start_server("--max-concurrency", "1", "--queue-size", "2")
    with ThreadPoolExecutor(max_workers=2) as pool:
        running = pool.submit(draining.execute, SLEEP_SCRIPT.format(seconds=1.5))
        wait_until_running(draining, 1)
        queued = pool.submit(draining.execute, "def main():\n    return 'queued'\n")
        time.sleep(0.2)  # let the second request reach the queue
        draining.signal(signal.SIGTERM)
        assert draining.wait_for_log(lambda r: r.get("message") == "draining") is not None

        # New connections are refused once draining starts.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", draining.port), timeout=2).close()

        running_response = running.result(timeout=15)
        queued_response = queued.result(timeout=15)
    assert running_response.status == 200
    assert running_response.json()["result"] == "slept"
    assert running_response.headers["Connection"] == "close"
    assert queued_response.status == 200
    assert queued_response.json()["result"] == "queued"
    assert draining.wait(timeout=15) == 0
    assert draining.wait_for_log(lambda r: r.get("message") == "drained") is not None


def test_during_drain_idle_connections_close_and_healthz_is_503(start_server):
    draining = start_server()
    idle = draining.raw_socket()
    mid_request = draining.raw_socket()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            running = pool.submit(draining.execute, SLEEP_SCRIPT.format(seconds=1.5))
            wait_until_running(draining, 1)
            # A health probe whose headers are on their way when the signal arrives.
            mid_request.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.2)
            draining.signal(signal.SIGTERM)
            assert draining.wait_for_log(lambda r: r.get("message") == "draining") is not None

            idle.settimeout(2)
            assert idle.recv(1024) == b"", "an idle keep-alive connection must be closed"

            mid_request.sendall(b"\r\n")
            mid_request.settimeout(5)
            answer = mid_request.recv(65536)
            assert answer.startswith(b"HTTP/1.1 503")
            assert b'"status":"unavailable"' in answer
            assert b"Connection: close" in answer
            assert running.result(timeout=15).status == 200
    finally:
        idle.close()
        mid_request.close()
    assert draining.wait(timeout=15) == 0


def test_sigint_stops_an_idle_server_with_0(start_server):
    idle = start_server()
    started = time.monotonic()
    idle.signal(signal.SIGINT)
    assert idle.wait(timeout=10) == 0
    assert time.monotonic() - started < 2


def test_drain_timeout_bounds_the_wait(start_server):
    stubborn = start_server("--drain-timeout", "500ms", "--time-limit", "2s")
    with ThreadPoolExecutor(max_workers=1) as pool:
        hanging = pool.submit(stubborn.execute, SLEEP_SCRIPT.format(seconds=30))
        wait_until_running(stubborn, 1)
        started = time.monotonic()
        stubborn.signal(signal.SIGTERM)
        assert stubborn.wait(timeout=15) == 0
        # The running sandbox is still cleaned up (its 2 s limit), but nothing waits longer.
        assert time.monotonic() - started < 4
        with pytest.raises(Exception):
            hanging.result(timeout=5)
    drain_timeout = stubborn.wait_for_log(lambda r: r.get("message", "").startswith("drain timeout"))
    assert drain_timeout is not None, [r.get("message") for r in stubborn.records()]
