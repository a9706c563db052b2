# StackSync harness: runs one user script inside the sandbox and reports main()'s outcome on
# its own channel (fd 4), never through stdout. The script arrives on fd 3.
#
# Frame written to the channel, exactly one JSON object:
#   {"ok": true, "result": <value>}
#   {"ok": false, "type": "<error type>", "message": "...", ...details}
# The C++ side trusts none of it: it validates the JSON, its size, and the error type.
import os
import sys

SCRIPT_FD = 3
CHANNEL_FD = 4
SCRIPT_NAME = "<script>"
MAX_DEPTH = 100
MAX_RESULT_BYTES = 16 * 1024 * 1024


class NotSerializable(Exception):
    def __init__(self, path, type_name, hint=""):
        super().__init__(path)
        self.path = path
        self.type_name = type_name
        self.hint = hint


def _type_name(value):
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__


def _hint(value):
    name = type(value).__name__
    if name in ("DataFrame", "Series"):
        return " (convert it first, e.g. with .to_dict() or .to_json())"
    if isinstance(value, (set, frozenset)):
        return " (convert it to a list)"
    if isinstance(value, (bytes, bytearray)):
        return " (decode it to a str)"
    return ""


def _key(key, path):
    # The keys json.dumps accepts, converted the way it converts them.
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return str(int(key))
    if isinstance(key, float):
        return _float_key(key)
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(key, numpy.generic):
        return _key(key.item(), path)
    raise NotSerializable(path + " key", _type_name(key))


def _float_key(value):
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def to_json_value(value, path="result", depth=0):
    """A copy of value made of dict/list/str/int/float/bool/None; NaN and infinities -> None."""
    if depth > MAX_DEPTH:
        raise NotSerializable(path, "nesting deeper than %d levels" % MAX_DEPTH)
    if value is None or value is True or value is False or type(value) is str:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return float(value) if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {_key(k, path): to_json_value(v, "%s[%r]" % (path, k), depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, "%s[%d]" % (path, i), depth + 1) for i, v in enumerate(value)]
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if isinstance(value, numpy.ndarray):
            return to_json_value(value.tolist(), path, depth)
        if isinstance(value, numpy.generic):
            item = value.item()
            if isinstance(item, numpy.generic) or type(item) is type(value):
                raise NotSerializable(path, _type_name(value))
            return to_json_value(item, path, depth)
    raise NotSerializable(path, _type_name(value), _hint(value))


def _write_frame(fd, frame):
    import json

    data = json.dumps(frame, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        payload = data.encode("utf-8")
    except UnicodeEncodeError:
        payload = json.dumps(
            {"ok": False, "type": "not_serializable",
             "message": "the result contains a string that is not valid Unicode (lone surrogates)",
             "path": "result", "value_type": "str"}).encode("utf-8")
    if len(payload) > MAX_RESULT_BYTES:
        payload = json.dumps(
            {"ok": False, "type": "result_too_large",
             "message": "the result is %d bytes of JSON; the limit is %d MiB"
             % (len(payload), MAX_RESULT_BYTES >> 20), "size_bytes": len(payload)}).encode("utf-8")
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _user_traceback(exc):
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == SCRIPT_NAME]
    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def _flush_output():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _run(source, channel):
    import linecache

    linecache.cache[SCRIPT_NAME] = (len(source), None, source.splitlines(True), SCRIPT_NAME)
    try:
        code = compile(source, SCRIPT_NAME, "exec")
    except SyntaxError as exc:
        return {"ok": False, "type": "syntax_error",
                "message": "%s (line %s, column %s)" % (exc.msg, exc.lineno, exc.offset),
                "line": exc.lineno, "column": exc.offset}
    except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
        return {"ok": False, "type": "syntax_error", "message": str(exc)}
    # Not "__main__": a script's own `if __name__ == "__main__": main()` would run main twice.
    namespace = {"__name__": "__script__", "__builtins__": __builtins__}
    try:
        exec(code, namespace)
        main = namespace.get("main")
        if main is None:
            return {"ok": False, "type": "missing_main", "message": "the script defines no main() function"}
        if not callable(main):
            return {"ok": False, "type": "main_not_callable",
                    "message": "main is a %s, not a function" % _type_name(main)}
        value = main()
    except SystemExit as exc:
        code_value = exc.code
        exit_code = code_value if isinstance(code_value, int) else (0 if code_value is None else 1)
        return {"ok": False, "type": "exited", "exit_code": exit_code,
                "message": "the script called sys.exit(%r) before main() returned" % (code_value,)}
    except MemoryError:
        return {"ok": False, "type": "memory_limit", "message": "MemoryError"}
    except BaseException as exc:
        return {"ok": False, "type": "runtime_error", "exception": _type_name(exc),
                "message": "%s: %s" % (_type_name(exc), exc), "traceback": _user_traceback(exc)}
    try:
        return {"ok": True, "result": to_json_value(value)}
    except NotSerializable as exc:
        return {"ok": False, "type": "not_serializable", "path": exc.path, "value_type": exc.type_name,
                "message": "main() returned a value that is not JSON-serializable: %s is %s%s"
                % (exc.path, exc.type_name, exc.hint)}
    except RecursionError:
        return {"ok": False, "type": "not_serializable", "path": "result", "value_type": "nested",
                "message": "main() returned a value nested deeper than %d levels" % MAX_DEPTH}


def main():
    with os.fdopen(SCRIPT_FD, "rb") as script_file:
        source = script_file.read().decode("utf-8", errors="replace")
    # The channel lives on a descriptor the script is not told about; the script can still find
    # it, which is why the supervisor validates every byte it receives.
    channel = os.dup(CHANNEL_FD)
    os.close(CHANNEL_FD)
    frame = _run(source, channel)
    _flush_output()
    try:
        _write_frame(channel, frame)
    except BaseException as exc:
        try:
            _write_frame(channel, {"ok": False, "type": "not_serializable", "path": "result",
                                   "value_type": "unknown", "message": "could not encode the result: %r" % exc})
        except BaseException:
            pass
    # Daemon threads and forked children do not outlive main(): the sandbox's init exits now
    # and the kernel kills the rest of its pid namespace.
    os._exit(0)


if __name__ == "__main__":
    main()
