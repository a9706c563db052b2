"""HTTP-level behaviour of the real server: keep-alive, pipelining, the body limit (413 without
reading the body), 100-continue, malformed requests, and the timeouts that stop slow clients."""

import json
import re
import socket
import time

import pytest

from conftest import read_response

JSON_HEADERS = {"Content-Type": "application/json"}
ONE_MIB = 1024 * 1024


def receive_until_closed(sock, deadline_s=10):
    """Everything the server sends until it closes the connection (or the deadline passes)."""
    sock.settimeout(deadline_s)
    chunks = []
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def status_of(raw_response):
    return int(raw_response.split(b" ", 2)[1])


def body_of(raw_response):
    return json.loads(raw_response.split(b"\r\n\r\n", 1)[1])


def execute_body_of_size(size):
    """A valid /execute body of exactly `size` bytes (the script ends in a padding comment)."""
    prefix = '{"script": "def main():\\n    return 1\\n#'
    suffix = '"}'
    padding = size - len(prefix) - len(suffix)
    assert padding >= 0
    body = (prefix + "x" * padding + suffix).encode()
    assert len(body) == size
    return body


# --- Keep-alive and pipelining --------------------------------------------------------------


def test_keep_alive_serves_many_requests_on_one_connection(server):
    connection = server.connection()
    connection.auto_open = 0  # a closed connection must fail the test, not silently reconnect
    try:
        connection.connect()
        local_address = connection.sock.getsockname()
        script_ok = json.dumps({"script": "def main():\n    print('hi')\n    return 1\n"})
        script_error = json.dumps({"script": "def main():\n    return 1/0\n"})
        answers = [
            read_response(connection, "GET", "/healthz").status,
            read_response(connection, "POST", "/execute", script_ok, JSON_HEADERS).status,
            read_response(connection, "POST", "/execute", script_error, JSON_HEADERS).status,
            read_response(connection, "GET", "/missing").status,
            read_response(connection, "POST", "/execute", b"{", JSON_HEADERS).status,
            read_response(connection, "GET", "/execute").status,
            read_response(connection, "POST", "/execute", script_ok, {"Content-Type": "text/plain"}).status,
            read_response(connection, "POST", "/execute", script_ok, JSON_HEADERS).status,
        ]
        assert answers == [200, 200, 400, 404, 400, 405, 415, 200]
        assert connection.sock.getsockname() == local_address
    finally:
        connection.close()


def test_pipelined_requests_are_answered_in_order(server):
    request = (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: first\r\n\r\n"
        b"GET /nowhere HTTP/1.1\r\nHost: x\r\nX-Request-Id: second\r\n\r\n"
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: third\r\nConnection: close\r\n\r\n"
    )
    with server.raw_socket() as sock:
        sock.sendall(request)
        received = receive_until_closed(sock)
    # A body is not followed by CRLF: the next status line starts right after it.
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", received)]
    assert statuses == [200, 404, 200]
    assert re.findall(rb"X-Request-Id: ([a-z]+)\r\n", received) == [b"first", b"second", b"third"]


def test_head_answers_carry_no_body_on_any_route(server):
    connection = server.connection()
    connection.auto_open = 0
    try:
        connection.connect()
        for path, status in [("/healthz", 200), ("/metrics", 200), ("/execute", 405), ("/missing", 404)]:
            connection.request("HEAD", path)
            raw = connection.getresponse()
            assert raw.status == status
            assert int(raw.headers["Content-Length"]) > 0
            assert raw.read() == b""
        # Had a body been sent, this answer would be parsed from its bytes.
        assert read_response(connection, "GET", "/healthz").json()["status"] == "ok"
    finally:
        connection.close()


def test_http_1_0_gets_an_answer_and_a_close(server):
    with server.raw_socket() as sock:
        sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        received = receive_until_closed(sock)
    assert received.startswith(b"HTTP/1.0 200")
    assert body_of(received)["status"] == "ok"


# --- Body limit ------------------------------------------------------------------------------


def test_body_at_the_limit_is_accepted(server):
    response = server.request("POST", "/execute", execute_body_of_size(ONE_MIB), JSON_HEADERS)
    assert response.status == 200, response
    assert response.json()["result"] == 1


def test_body_over_the_limit_is_413(server):
    headers = dict(JSON_HEADERS, **{"X-Request-Id": "too-big-1"})
    response = server.request("POST", "/execute", execute_body_of_size(ONE_MIB + 1), headers)
    assert response.status == 413
    body = response.json()
    assert body["type"] == "payload_too_large"
    assert body["limitBytes"] == ONE_MIB
    # Refused from its headers alone, the request is still known: its id and its path.
    assert body["requestId"] == response.headers["X-Request-Id"] == "too-big-1"
    record = server.wait_for_log(lambda r: r.get("requestId") == "too-big-1")
    assert record["status"] == 413 and record["httpRequest"]["requestUrl"] == "/execute"


def test_413_is_sent_without_reading_the_body(server):
    # Announce 100 MiB and send none of it: the answer must come from the headers alone.
    with server.raw_socket() as sock:
        sock.sendall(
            b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n"
        )
        started = time.monotonic()
        received = receive_until_closed(sock, deadline_s=5)
        elapsed = time.monotonic() - started
    assert status_of(received) == 413
    assert body_of(received)["type"] == "payload_too_large"
    assert elapsed < 4  # answered, then closed after the short linger, not after a timeout


def test_chunked_body_over_the_limit_is_413(server):
    chunk = b"x" * 65536
    with server.raw_socket() as sock:
        sock.sendall(
            b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        try:
            for _ in range(40):  # 2.5 MiB, well past the limit
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may stop reading once it has answered
        received = receive_until_closed(sock)
    assert status_of(received) == 413


def test_chunked_body_under_the_limit_works(server):
    payload = json.dumps({"script": "def main():\n    return 'chunked'\n"}).encode()
    with server.raw_socket() as sock:
        sock.sendall(
            b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + b"%x\r\n%s\r\n" % (10, payload[:10])
            + b"%x\r\n%s\r\n" % (len(payload) - 10, payload[10:])
            + b"0\r\n\r\n"
        )
        received = receive_until_closed(sock)
    assert status_of(received) == 200
    assert body_of(received)["result"] == "chunked"


def test_expect_100_continue(server):
    payload = json.dumps({"script": "def main():\n    return 100\n"}).encode()
    with server.raw_socket() as sock:
        sock.sendall(
            b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(payload)
        )
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(payload)
        received = receive_until_closed(sock)
    assert status_of(received) == 200
    assert body_of(received)["result"] == 100


def test_expect_100_continue_too_large_gets_413_instead(server):
    with server.raw_socket() as sock:
        sock.sendall(
            b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % (ONE_MIB + 1)
        )
        received = receive_until_closed(sock, deadline_s=5)
    assert status_of(received) == 413
    assert b"100 Continue" not in received


def test_configured_body_limit(start_server):
    small = start_server("--body-limit", "2KiB")
    assert small.request("POST", "/execute", execute_body_of_size(2048), JSON_HEADERS).status == 200
    response = small.request("POST", "/execute", execute_body_of_size(2049), JSON_HEADERS)
    assert response.status == 413
    assert response.json()["limitBytes"] == 2048


# --- Malformed requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_request",
    [
        b"NONSENSE\r\n\r\n",
        b"GET /healthz HTTP/9.9\r\n\r\n",
        b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    ],
)
def test_malformed_http_is_400(server, raw_request):
    with server.raw_socket() as sock:
        sock.sendall(raw_request)
        received = receive_until_closed(sock)
    assert status_of(received) == 400
    body = body_of(received)
    assert body["type"] == "invalid_request"
    assert "malformed HTTP request" in body["error"]


def test_oversized_headers_are_431(server):
    with server.raw_socket() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * 20000 + b"\r\n\r\n")
        received = receive_until_closed(sock)
    assert status_of(received) == 431
    assert body_of(received)["type"] == "headers_too_large"


# --- Slow and silent clients -----------------------------------------------------------------


@pytest.fixture(scope="module")
def impatient_server():
    from conftest import ServerProcess

    instance = ServerProcess("--header-timeout", "1s", "--body-timeout", "1s", "--idle-timeout", "1500ms")
    yield instance
    instance.stop()


def seconds_until_closed(sock, trickle=None, deadline_s=10):
    """Sends `trickle` one byte every 0.2 s (if given) and returns how long until the server
    closed the connection."""
    started = time.monotonic()
    sock.settimeout(0.2)
    data = bytearray(trickle or b"")
    while time.monotonic() - started < deadline_s:
        if data:
            try:
                sock.send(bytes(data[:1]))
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
            del data[:1]
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - started
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return None


def test_trickled_headers_are_cut_off_at_the_header_timeout(impatient_server):
    trickle = b"POST /execute HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 200 + b"\r\n\r\n"
    with impatient_server.raw_socket() as slow:
        # While the slow client trickles, others are served at once.
        started = time.monotonic()
        assert impatient_server.request("GET", "/healthz").status == 200
        assert time.monotonic() - started < 1
        closed_after = seconds_until_closed(slow, trickle)
    assert closed_after is not None, "the server kept a trickling client forever"
    assert 0.8 <= closed_after <= 3.0
    record = impatient_server.wait_for_log(lambda r: r.get("errorType") == "client_timeout")
    assert record is not None and "headers" in record["message"]


def test_stalled_body_is_cut_off_at_the_body_timeout(impatient_server):
    with impatient_server.raw_socket() as slow:
        slow.sendall(
            b"POST /execute HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{\"script\":"
        )
        closed_after = seconds_until_closed(slow)
    assert closed_after is not None
    assert 0.8 <= closed_after <= 3.0


def test_idle_keep_alive_connection_is_closed_after_the_idle_timeout(impatient_server):
    with impatient_server.raw_socket() as idle:
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        first = idle.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        closed_after = seconds_until_closed(idle)
    assert closed_after is not None
    assert 0.9 <= closed_after <= 3.5


def test_connections_past_the_maximum_are_closed(start_server):
    limited = start_server("--max-connections", "2")
    held = [limited.raw_socket(), limited.raw_socket()]
    try:
        for sock in held:  # both are served, so both are counted
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        with limited.raw_socket() as extra:
            try:
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            assert receive_until_closed(extra, deadline_s=3) == b""
        assert limited.wait_for_log(lambda r: r.get("errorType") == "too_many_connections")

        held.pop().close()  # a slot frees up once the server sees the close
        deadline = time.monotonic() + 3
        while True:
            try:
                if limited.request("GET", "/healthz", timeout=2).status == 200:
                    break
            except (ConnectionError, OSError):
                pass
            assert time.monotonic() < deadline, "the freed connection slot was never reused"
            time.sleep(0.05)
    finally:
        for sock in held:
            sock.close()
