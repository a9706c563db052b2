"""POST /execute and GET /healthz over real HTTP: the public contract, every status code and
every error type of the API, byte-exact output, request ids and the request log."""

import json
import re

import pytest

from conftest import read_response

JSON_HEADERS = {"Content-Type": "application/json"}


def assert_json_response(response, status):
    assert response.status == status, response
    assert response.headers["Content-Type"] == "application/json"
    return response.json()


# --- The examples of the issues -------------------------------------------------------------


def test_example_pandas_hello(server):
    script = (
        "def main():\n"
        "    import pandas as pd\n"
        '    print("Hello")\n'
        '    return {"message": "success"}'
    )
    body = assert_json_response(server.execute(script), 200)
    assert body["result"] == {"message": "success"}
    assert body["stdout"] == "Hello\n"
    assert set(body) <= {"result", "stdout", "stderr"}


def test_example_dataframe(server):
    script = (
        "def main():\n"
        "    import pandas as pd\n"
        '    df = pd.DataFrame({"test": [1, 2, 3]})\n'
        '    print("DataFrame created successfully")\n'
        '    return {"status": "success", "data": df.to_dict()}\n'
    )
    body = assert_json_response(server.execute(script), 200)
    assert body["result"] == {"status": "success", "data": {"test": {"0": 1, "1": 2, "2": 3}}}
    assert body["stdout"] == "DataFrame created successfully\n"


def test_example_statistics(server):
    script = (
        "def main():\n"
        "    import pandas as pd\n"
        "    import numpy as np\n"
        '    data = {"A": np.random.rand(5), "B": np.random.rand(5)}\n'
        "    df = pd.DataFrame(data)\n"
        "    result = df.describe().to_dict()\n"
        '    return {"status": "success", "statistics": result}\n'
    )
    first = assert_json_response(server.execute(script), 200)
    second = assert_json_response(server.execute(script), 200)
    statistics = first["result"]["statistics"]
    assert first["result"]["status"] == "success"
    assert set(statistics) == {"A", "B"}
    assert set(statistics["A"]) == {"count", "mean", "std", "min", "25%", "50%", "75%", "max"}
    assert statistics["A"]["count"] == 5
    assert 0 <= statistics["A"]["min"] <= statistics["A"]["max"] < 1
    # Two runs must not draw the same "random" numbers.
    assert first["result"] != second["result"]


# --- Output exactness -----------------------------------------------------------------------


def test_stdout_is_returned_byte_exact_without_stripping(server):
    script = (
        "import sys\n"
        "def main():\n"
        '    print("  leading and trailing spaces  ")\n'
        "    print()\n"
        '    print("\\ttab\\r\\nwindows line")\n'
        '    sys.stdout.write("no newline at the end   ")\n'
        "    return None\n"
    )
    body = assert_json_response(server.execute(script), 200)
    assert body["result"] is None
    assert body["stdout"] == (
        "  leading and trailing spaces  \n\n\ttab\r\nwindows line\nno newline at the end   "
    )


def test_stdout_unicode_survives(server):
    script = 'def main():\n    print("héllo wörld ✓ 日本 🐍")\n    return "ünïcode ✓"\n'
    body = assert_json_response(server.execute(script), 200)
    assert body["stdout"] == "héllo wörld ✓ 日本 🐍\n"
    assert body["result"] == "ünïcode ✓"


def test_non_utf8_and_nul_bytes_in_output_are_valid_json(server):
    script = (
        "import sys\n"
        "def main():\n"
        "    sys.stdout.buffer.write(b'ok \\xff\\xfe bytes \\x00 nul\\n')\n"
        "    sys.stdout.flush()\n"
        "    sys.stderr.buffer.write(b'\\xc3\\x28 err\\n')\n"
        "    sys.stderr.flush()\n"
        "    return 1\n"
    )
    response = server.execute(script)
    body = assert_json_response(response, 200)  # json.loads is strict about the document
    assert body["result"] == 1
    assert body["stdout"] == "ok \ufffd\ufffd bytes \x00 nul\n"
    assert body["stderr"].endswith("( err\n")
    assert "\ufffd" in body["stderr"]


def test_stdout_past_the_cap_is_truncated_and_says_so(server):
    script = "def main():\n    print('x' * (3 * 1024 * 1024))\n    return 'done'\n"
    body = assert_json_response(server.execute(script), 200)
    assert body["result"] == "done"
    assert body["stdout_truncated"] is True
    assert len(body["stdout"]) == 1024 * 1024


def test_result_values_round_trip(server):
    script = (
        "def main():\n"
        "    import numpy as np\n"
        "    return {'int': 7, 'big': 2**60, 'float': 0.1, 'neg': -3.5, 'nan': float('nan'),\n"
        "            'list': [1, 'two', None, True], 'np': np.int64(5), 'arr': np.arange(3),\n"
        "            'nested': {'a': {'b': [[]]}}}\n"
    )
    body = assert_json_response(server.execute(script), 200)
    assert body["result"] == {
        "int": 7,
        "big": 2**60,
        "float": 0.1,
        "neg": -3.5,
        "nan": None,
        "list": [1, "two", None, True],
        "np": 5,
        "arr": [0, 1, 2],
        "nested": {"a": {"b": [[]]}},
    }


# --- Script errors: 400 with the engine's type and fields ------------------------------------


def script_error(server, script, error_type):
    body = assert_json_response(server.execute(script), 400)
    assert body["type"] == error_type, body
    assert isinstance(body["error"], str) and body["error"]
    assert "stdout" in body and "stderr" in body
    return body


def test_missing_main(server):
    body = script_error(server, "x = 1\n", "missing_main")
    assert "main" in body["error"]


def test_main_not_callable(server):
    body = script_error(server, "main = 3\n", "main_not_callable")
    assert "main" in body["error"]


def test_syntax_error_gives_line_and_column(server):
    body = script_error(server, "def main():\n    return (1 +\n\nx = 1\n", "syntax_error")
    assert isinstance(body["line"], int) and body["line"] >= 2
    assert isinstance(body["column"], int)


def test_runtime_error_gives_exception_and_traceback(server):
    script = 'def helper():\n    raise ValueError("bad value")\n\ndef main():\n    print("before")\n    helper()\n'
    body = script_error(server, script, "runtime_error")
    assert body["exception"] == "ValueError"
    assert "bad value" in body["error"]
    assert "helper" in body["traceback"] and "line 2" in body["traceback"]
    assert body["stdout"] == "before\n"  # output is returned with errors too


def test_not_serializable_names_type_and_path(server):
    body = script_error(
        server, 'def main():\n    return {"data": [1, 2, {3}]}\n', "not_serializable"
    )
    assert body["value_type"] == "set"
    assert "data" in body["path"] and "2" in body["path"]
    assert "set" in body["error"] and body["path"] in body["error"]


def test_dataframe_result_is_not_serializable_with_a_hint(server):
    script = "def main():\n    import pandas as pd\n    return pd.DataFrame({'a': [1]})\n"
    body = script_error(server, script, "not_serializable")
    assert "DataFrame" in body["value_type"]
    assert "to_dict" in body["error"]


def test_result_too_large(server):
    body = script_error(
        server, "def main():\n    return 'x' * (17 * 1024 * 1024)\n", "result_too_large"
    )
    assert body["limit_bytes"] == 16 * 1024 * 1024


def test_timeout_names_the_limit_in_seconds(server):
    body = script_error(server, "def main():\n    while True:\n        pass\n", "timeout")
    assert body["limit_seconds"] == 5
    assert re.search(r"\b5 ?s", body["error"]), body["error"]


def test_memory_limit_names_the_limit_in_mib(server):
    script = "def main():\n    blocks = []\n    while True:\n        blocks.append(bytearray(64 * 1024 * 1024))\n"
    body = script_error(server, script, "memory_limit")
    assert body["limit_mib"] == 512
    assert "512 MiB" in body["error"]


def test_sys_exit_is_exited_with_code(server):
    body = script_error(server, "import sys\ndef main():\n    sys.exit(3)\n", "exited")
    assert body["exit_code"] == 3


def test_killed_by_signal_is_exited_with_signal(server):
    script = "import os, signal\ndef main():\n    print('bye', flush=True)\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    body = script_error(server, script, "exited")
    assert body["signal"] == "SIGKILL"
    assert body["stdout"] == "bye\n"


# The harness keeps its own encoder and writer (patching json.dumps or os.write does nothing), but
# the script can still find the result channel among its descriptors and write to it directly.
WRITE_TO_EVERY_PIPE = (
    "import os, stat\n"
    "def main():\n"
    "    for fd in range(3, 256):\n"
    "        try:\n"
    "            if stat.S_ISFIFO(os.fstat(fd).st_mode):\n"
    "                os.write(fd, {frame!r})\n"
    "        except OSError:\n"
    "            pass\n"
    "    {then}\n"
)


def test_corrupted_result_frame_is_invalid_result(server):
    # A cut-short frame, followed by the harness's own: the channel carries no valid frame.
    script = WRITE_TO_EVERY_PIPE.format(frame=b'{"ok": true, "result": [1', then="return 1")
    body = script_error(server, script, "invalid_result")
    assert "invalid" in body["error"]


@pytest.mark.parametrize("forged_type", ["sandbox_error", "internal"])
def test_a_script_cannot_cause_a_5xx(server, forged_type):
    # A frame claiming our own failure is the script's doing: never a 500.
    forged = b'{"ok": false, "type": "%s", "message": "forged"}' % forged_type.encode()
    # Exiting at once, so that the forged frame is all the channel carries.
    script = WRITE_TO_EVERY_PIPE.format(frame=forged, then="os._exit(0)")
    response = server.execute(script)
    assert response.status == 400, response
    assert response.json()["type"] == "invalid_result"


def test_printed_json_does_not_forge_the_result(server):
    script = (
        "def main():\n"
        "    print('{\"result\": \"forged\", \"stdout\": \"\"}')\n"
        "    return 'genuine'\n"
    )
    body = assert_json_response(server.execute(script), 200)
    assert body["result"] == "genuine"
    assert body["stdout"] == '{"result": "forged", "stdout": ""}\n'


# --- Request errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_body, says",
    [
        (b'{"script": "def main(): return 1"', "not valid JSON"),
        (b"{'script': 'x'}", "not valid JSON"),
        (b'{"script": "x"} trailing', "not valid JSON"),
        (b"\xff\xfe{}", "not valid JSON"),
        (b"", "empty"),
        (b'["def main(): return 1"]', "must be a JSON object"),
        (b'"def main(): return 1"', "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b'{"code": "def main(): return 1"}', '"script" is missing'),
        (b'{"script": 42}', '"script" must be a string'),
        (b'{"script": null}', '"script" must be a string'),
        (b'{"script": ["def main(): return 1"]}', '"script" must be a string'),
        (b'{"script": ""}', '"script" is empty'),
    ],
)
def test_invalid_request_says_what_is_wrong(server, raw_body, says):
    response = server.request("POST", "/execute", raw_body, JSON_HEADERS)
    body = assert_json_response(response, 400)
    assert body["type"] == "invalid_request"
    assert says in body["error"], body["error"]
    assert body["requestId"] == response.headers["X-Request-Id"]


def test_deeply_nested_body_is_rejected_not_crashed(server):
    nested = b'{"script": "x", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    body = assert_json_response(server.request("POST", "/execute", nested, JSON_HEADERS), 400)
    assert body["type"] == "invalid_request"


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"],
)
def test_accepted_content_types(server, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = json.dumps({"script": "def main():\n    return 'ok'\n"})
    connection = server.connection()
    try:
        if content_type is None:
            # http.client adds no Content-Type on its own; assert that nothing else did.
            connection.putrequest("POST", "/execute")
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body.encode())
            raw = connection.getresponse()
            status, payload = raw.status, json.loads(raw.read())
        else:
            response = read_response(connection, "POST", "/execute", body, headers)
            status, payload = response.status, response.json()
    finally:
        connection.close()
    assert status == 200
    assert payload["result"] == "ok"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonp"])
def test_other_content_types_are_415(server, content_type):
    response = server.request(
        "POST", "/execute", json.dumps({"script": "def main(): return 1"}), {"Content-Type": content_type}
    )
    body = assert_json_response(response, 415)
    assert body["type"] == "unsupported_media_type"
    assert content_type in body["error"]


@pytest.mark.parametrize("path", ["/", "/execute/", "/exec", "/healthz/x", "/../etc/passwd"])
def test_unknown_path_is_404(server, path):
    body = assert_json_response(server.request("GET", path), 404)
    assert body["type"] == "not_found"


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("GET", "/execute", "POST"),
        ("PUT", "/execute", "POST"),
        ("DELETE", "/execute", "POST"),
        ("POST", "/healthz", "GET, HEAD"),
        ("POST", "/metrics", "GET, HEAD"),
        ("PUT", "/metrics", "GET, HEAD"),
    ],
)
def test_wrong_method_is_405_with_allow(server, method, path, allow):
    response = server.request(method, path, b"{}" if method in ("PUT", "POST") else None)
    body = assert_json_response(response, 405)
    assert body["type"] == "method_not_allowed"
    assert response.headers["Allow"] == allow


# --- Health ---------------------------------------------------------------------------------


def test_healthz_reports_isolation_version_and_mode(server):
    body = assert_json_response(server.request("GET", "/healthz"), 200)
    assert body["status"] == "ok"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", body["version"])
    assert body["mode"] in ("cold", "warm")
    isolation = body["isolation"]
    assert isolation["namespaces"] is True
    assert isolation["seccomp"] is True
    assert isolation["cgroupVersion"] in ("v1", "v2")
    assert isolation["memoryLimit"] is True and isolation["pidsLimit"] is True
    assert isolation["weakened"] is False
    assert body["limits"]["memoryMiB"] == 512 and body["limits"]["wallMs"] == 5000
    assert body["load"]["maxConcurrency"] >= 1


def test_healthz_with_query_string_and_head(server):
    assert server.request("GET", "/healthz?probe=1").status == 200
    connection = server.connection()
    try:
        connection.request("HEAD", "/healthz")
        raw = connection.getresponse()
        assert raw.status == 200
        assert int(raw.headers["Content-Length"]) > 0
        assert raw.read() == b""
    finally:
        connection.close()


# --- Request ids and logs -------------------------------------------------------------------


def test_request_id_from_client_is_echoed_and_logged(server):
    request_id = "e2e-test.request:42_ABC"
    script = "def main():\n    raise KeyError('k')\n"
    response = server.execute(script, headers={"X-Request-Id": request_id})
    assert response.status == 400
    assert response.headers["X-Request-Id"] == request_id
    record = server.wait_for_log(lambda r: r.get("requestId") == request_id and "status" in r)
    assert record is not None
    assert record["severity"] == "INFO"
    assert record["status"] == 400
    assert record["errorType"] == "runtime_error"
    assert record["durationMs"] >= record["runMs"] > 0
    assert record["queueWaitMs"] >= 0
    http_request = record["httpRequest"]
    assert http_request["requestMethod"] == "POST"
    assert http_request["requestUrl"] == "/execute"
    assert http_request["status"] == 400
    assert http_request["remoteIp"] == "127.0.0.1"
    assert re.fullmatch(r"\d+\.\d+s", http_request["latency"])


@pytest.mark.parametrize("bad_id", ["", "has space", "x" * 200, "semi;colon", "new\\nline"])
def test_unacceptable_request_id_is_replaced(server, bad_id):
    response = server.request("GET", "/healthz", headers={"X-Request-Id": bad_id})
    assert response.status == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


def test_generated_request_ids_are_unique(server):
    ids = {server.request("GET", "/nope").headers["X-Request-Id"] for _ in range(20)}
    assert len(ids) == 20
    for request_id in ids:
        record = server.wait_for_log(lambda r, i=request_id: r.get("requestId") == i)
        assert record["status"] == 404 and record["errorType"] == "not_found"
        assert record["queueWaitMs"] is None


def test_startup_line_reports_config_and_isolation(server):
    startup = server.startup
    assert startup["severity"] == "INFO"
    assert startup["port"] == server.port
    assert startup["config"]["bodyLimitBytes"] == 1024 * 1024
    assert startup["isolation"]["namespaces"] is True
    raw_line = next(line for line in server.lines if '"port"' in line)
    assert f'"port": {server.port}' in raw_line
