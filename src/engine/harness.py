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
    # The script's own classes go by their plain names; library classes keep their module.
    if t.__module__ in ("builtins", "__script__"):
        return t.__qualname__
    return t.__module__ + "." + t.__qualname__


def _key_path(path, key):
    # result["data"][2]: keys as a JSON reader would write them.
    import json

    if isinstance(key, str):
        return "%s[%s]" % (path, json.dumps(key, ensure_ascii=False))
    return "%s[%s]" % (path, _safe_str(key))


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
        return {_key(k, path): to_json_value(v, _key_path(path, k), depth + 1) for k, v in value.items()}
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


MAX_MESSAGE_CHARS = 4096
MAX_TRACEBACK_CHARS = 64 * 1024


def _bounded(text, limit):
    return text if len(text) <= limit else text[:limit] + "... (%d characters cut)" % (len(text) - limit)


# Bound before the script runs (see _capture_reporting_tools): a script that monkeypatches
# json.dumps or os.write in its own process must not garble its report by accident.
_encode = None
_write = None


def _capture_reporting_tools():
    global _encode, _write
    import json

    _encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    _write = os.write


def _write_frame(fd, frame):
    if not frame.get("ok"):
        for key, limit in (("message", MAX_MESSAGE_CHARS), ("traceback", MAX_TRACEBACK_CHARS)):
            if isinstance(frame.get(key), str):
                frame[key] = _bounded(frame[key], limit)
    data = _encode(frame)
    try:
        payload = data.encode("utf-8")
    except UnicodeEncodeError:
        payload = _encode(
            {"ok": False, "type": "not_serializable",
             "message": "the result contains a string that is not valid Unicode (lone surrogates)",
             "path": "result", "value_type": "str"}).encode("utf-8")
    if frame.get("ok") and len(payload) > MAX_RESULT_BYTES:
        payload = _encode(
            {"ok": False, "type": "result_too_large",
             "message": "the result is %d bytes of JSON; the limit is %d MiB"
             % (len(payload), MAX_RESULT_BYTES >> 20), "size_bytes": len(payload)}).encode("utf-8")
    view = memoryview(payload)
    while view:
        written = _write(fd, view)
        view = view[written:]


def _safe_str(value):
    """str(value), even when the object's own __str__ raises or returns garbage."""
    try:
        text = str(value)
        return text if isinstance(text, str) else "<unprintable %s>" % _type_name(value)
    except BaseException:
        return "<unprintable %s>" % _type_name(value)


def _user_traceback(exc):
    import traceback

    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == SCRIPT_NAME]
        lines = ["Traceback (most recent call last):\n"]
        lines += traceback.format_list(frames)
    except BaseException:
        lines = []
    lines.append("%s: %s\n" % (_type_name(exc), _safe_str(exc)))
    return "".join(lines)


def _flush_output():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _source_text(source):
    """The script as text for tracebacks, decoded the way python3 decodes a file."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except (SyntaxError, LookupError):
        encoding = "utf-8"
    return source.decode(encoding, errors="replace")


def _run(source, channel):
    import linecache

    text = _source_text(source)
    linecache.cache[SCRIPT_NAME] = (len(text), None, text.splitlines(True), SCRIPT_NAME)
    try:
        # Bytes, as python3 reads a file: a BOM and a PEP 263 coding declaration are honoured.
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
                    "message": "main is not a function but a value of type %s" % _type_name(main)}
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
                "message": "%s: %s" % (_type_name(exc), _safe_str(exc)), "traceback": _user_traceback(exc)}
    try:
        return {"ok": True, "result": to_json_value(value)}
    except NotSerializable as exc:
        return {"ok": False, "type": "not_serializable", "path": exc.path, "value_type": exc.type_name,
                "message": "main() returned a value that is not JSON-serializable: %s is %s%s"
                % (exc.path, exc.type_name, exc.hint)}
    except RecursionError:
        return {"ok": False, "type": "not_serializable", "path": "result", "value_type": "nested",
                "message": "main() returned a value nested deeper than %d levels" % MAX_DEPTH}
    except BaseException as exc:
        # The value's own code (a dict subclass, a numpy object) raised while being converted.
        return {"ok": False, "type": "not_serializable", "path": "result", "value_type": _type_name(value),
                "message": "main() returned a value that could not be converted to JSON: %s: %s"
                % (_type_name(exc), _safe_str(exc))}


def main():
    # Everything reporting needs is imported before the script runs: a script that exhausts its
    # file descriptors or breaks the import system must not be able to silence the report.
    import io, json, linecache, tokenize, traceback  # noqa: E401,F401

    _capture_reporting_tools()
    with os.fdopen(SCRIPT_FD, "rb") as script_file:
        source = script_file.read()
    # The channel lives on a descriptor the script is not told about; the script can still find
    # it, which is why the supervisor validates every byte it receives.
    channel = os.dup(CHANNEL_FD)
    os.close(CHANNEL_FD)
    harness_pid = os.getpid()
    frame = _run(source, channel)
    _flush_output()
    if os.getpid() != harness_pid:
        # A process the script forked ran off the end of main(): only the original reports.
        os._exit(0)
    try:
        _write_frame(channel, frame)
    except BaseException as exc:
        try:
            _write_frame(channel, {"ok": False, "type": "not_serializable", "path": "result",
                                   "value_type": "unknown", "message": "could not encode the result: %r" % exc})
        except BaseException:
            pass
    # The frame is complete: close the channel and our output so the service sees EOF now,
    # not after the kernel has torn down this process's memory.
    for fd in (channel, 1, 2):
        try:
            os.close(fd)
        except OSError:
            pass
    # Daemon threads and forked children do not outlive main(): the sandbox's init exits now
    # and the kernel kills the rest of its pid namespace.
    os._exit(0)


# ---------------------------------------------------------------------------------------------
# Warm mode: the zygote. It runs inside a sandbox of its own (user namespace with CAP_SYS_ADMIN
# and CAP_SETPCAP as ambient capabilities, read-only root, no network), imports numpy and
# pandas once, and never runs user code itself.
#
# It keeps a few spare sandboxes ready, prepared ahead of any request:
#   G, forked into a fresh pid namespace as its pid 1, unshares fresh mount, network, ipc and uts
#   namespaces, mounts a private /tmp and a /proc of its own, and forks
#   H, which sets its rlimits and reseeds every RNG, then waits. G then drops every privilege and
#   only waits for H.
# Per request the service sends, over a SOCK_SEQPACKET socket on fd 4, the fds of one run:
#   [script memfd, stdout, stderr, result channel, status pipe, cgroup.procs fd, ...]
# The zygote passes them straight to a spare's H (and the status pipe to its G) and acks. H moves
# itself into the request's cgroups, enters a cgroup namespace rooted there, drops every
# capability, sets no_new_privs and the seccomp filter (BPF from the service), and only then runs
# the script exactly as the cold path does. G reaps and reports H's wait status. The service
# supervises through the pipes and kills through the cgroup.

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x20000000, 0x40000000
PR_SET_DUMPABLE, PR_CAPBSET_DROP = 4, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 0x4000, 0x40000
SYS_CAPSET = 126
CONTROL_FD, BPF_FD = 4, 3
SPARES = 2


class _Jail:
    """What the zygote's children need to lock themselves in, prepared once."""

    def __init__(self, bpf, header):
        import ctypes

        self.ctypes = ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        for name in ("unshare", "setns", "mount", "prctl", "sethostname", "syscall"):
            getattr(self.libc, name).restype = ctypes.c_int
        self.program = ctypes.create_string_buffer(bpf, len(bpf))

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        self.fprog = SockFprog(len(bpf) // 8, ctypes.addressof(self.program))
        # "tmp=<bytes> rlimit=<resource>:<soft>:<hard> ... [fault=<point>:<nth>]"
        self.rlimits, self.faults = [], {}
        for word in header.split():
            key, _, value = word.partition("=")
            if key == "tmp":
                self.tmp_options = ("size=%d,nr_inodes=16384,mode=0700" % int(value)).encode()
            elif key == "rlimit":
                self.rlimits.append(tuple(int(x) for x in value.split(":")))
            elif key == "fault":  # test builds only: make the nth spare or request fail its setup
                point, _, nth = value.partition(":")
                self.faults[point] = int(nth or 0)
        self.counts = {}

    def fault(self, point):
        if point not in self.faults:
            return False
        self.counts[point] = self.counts.get(point, 0) + 1
        return self.faults[point] in (0, self.counts[point])

    def check(self, rc, what):
        if rc != 0:
            err = self.ctypes.get_errno()
            raise OSError(err, "%s: %s" % (what, os.strerror(err)))

    def drop_everything(self):
        """Empties all capability sets, sets no_new_privs and installs the seccomp filter."""
        libc = self.libc
        for cap in range(64):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                break
        libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
        header = (self.ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
        data = (self.ctypes.c_uint32 * 6)()
        self.check(libc.syscall(SYS_CAPSET, header, data), "capset")
        self.check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        self.check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, self.ctypes.byref(self.fprog), 0, 0),
                   "seccomp")


def zygote(header):
    """The template interpreter: preloads, then hands each request to a prepared spare sandbox."""
    import collections
    import gc
    import random  # noqa: F401  (imported here so that the spares do not import it)
    import resource  # noqa: F401
    import signal
    import socket

    import numpy
    import pandas

    # Load what pandas imports lazily on first use, so children do not each pay for it.
    frame = pandas.DataFrame({"a": numpy.arange(3.0)})
    frame.describe().to_dict()
    import io, json, linecache, tokenize, traceback  # noqa: E401,F401  (the harness's own needs)

    with os.fdopen(BPF_FD, "rb") as bpf_file:
        jail = _Jail(bpf_file.read(), header)
    control = socket.socket(fileno=CONTROL_FD)
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # spares are reaped by the kernel
    gc.freeze()  # forked children then do not touch (and copy) the preloaded objects' pages

    def prepare_spare():
        """A spare sandbox: returns the zygote's sockets to its init (G) and its payload (H)."""
        to_init, init_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        to_payload, payload_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # The next child is pid 1 of a fresh pid namespace; then back to ours for the one after.
        jail.check(jail.libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
        fail_setup = jail.fault("spare_setup")
        pid = os.fork()
        if pid == 0:
            to_init.close()
            to_payload.close()
            _spare_init(jail, init_end, payload_end, fail_setup)
        jail.check(jail.libc.setns(own_pid_ns, CLONE_NEWPID), "setns(pid)")
        init_end.close()
        payload_end.close()
        return to_init, to_payload

    spares = collections.deque(prepare_spare() for _ in range(SPARES))
    control.send(b"ready")
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 64, 16)
        except InterruptedError:
            continue
        except OSError:
            message = b""
        if not message:
            os._exit(0)  # the service closed the socket
        run_fds, status_fd = fds[:4] + fds[5:], fds[4:5]
        while True:
            to_init, to_payload = spares.popleft() if spares else prepare_spare()
            try:
                # The payload first: it is on the request's critical path, its init is not.
                socket.send_fds(to_payload, [b"fail" if jail.fault("payload_setup") else b"run"], run_fds)
                break
            except OSError:
                to_init.close()  # that spare died while being prepared; use another
                to_payload.close()
        try:
            socket.send_fds(to_init, [b"status"], status_fd)
        except OSError:
            # The init died, so its pid namespace and the payload die too. The script may have
            # started: never run it a second time. The service sees the pipes close, no report.
            pass
        to_init.close()
        to_payload.close()
        for fd in fds:
            os.close(fd)
        control.send(b"forked")
        spares.append(prepare_spare())


SETUP_FAILED = 0x7FFFFFFF  # in place of a wait status: the sandbox failed before the script ran


def _spare_init(jail, zygote_socket, payload_socket, fail_setup):
    """G: pid 1 of a fresh pid namespace. Never returns."""
    import signal
    import socket

    libc, check = jail.libc, jail.check
    try:
        if fail_setup:
            raise OSError(1, "unshare: Operation not permitted (injected fault)")
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        keep = sorted((zygote_socket.fileno(), payload_socket.fileno()))
        os.closerange(5, keep[0])
        os.closerange(keep[0] + 1, keep[1])
        os.closerange(keep[1] + 1, 1 << 16)
        os.close(CONTROL_FD)
        check(libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
        check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
        check(libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, jail.tmp_options), "mount /tmp")
        # hidepid=2: G (not dumpable) is invisible to the script, which sees only its own.
        check(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"hidepid=2"),
              "mount /proc")
        check(libc.sethostname(b"stacksync", 9), "sethostname")
        failures, failure_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        payload = os.fork()
    except BaseException as exc:
        _report_setup_failure(exc, 71)
    if payload == 0:
        zygote_socket.close()
        failures.close()
        _spare_payload(jail, payload_socket, failure_end)
    status = None
    try:
        payload_socket.close()
        failure_end.close()
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        # Nothing G does from here on needs a privilege: it waits for the status pipe and for H.
        jail.drop_everything()
        try:
            message, fds, _, _ = socket.recv_fds(zygote_socket, 64, 1)
        except OSError:
            message, fds = b"", []
        if not message or len(fds) != 1:
            os.kill(payload, 9)
            os._exit(0)  # the zygote went away before using this spare
        zygote_socket.close()
        status = fds[0]
    except BaseException as exc:
        try:
            os.kill(payload, 9)
            if status is not None:
                os.write(status, SETUP_FAILED.to_bytes(4, "little", signed=True) + repr(exc).encode()[:4000])
        finally:
            _report_setup_failure(exc, 72)
    while True:
        try:
            pid, wait_status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(73)
        except InterruptedError:
            continue
        if pid == payload:
            # A payload that failed its own setup said why before exiting; the script never ran.
            try:
                failure = failures.recv(4096, socket.MSG_DONTWAIT)
            except OSError:
                failure = b""
            report = (SETUP_FAILED.to_bytes(4, "little", signed=True) + failure if failure
                      else wait_status.to_bytes(4, "little", signed=True))
            try:
                os.write(status, report)
            except OSError:
                pass  # the service already had the script's answer and stopped listening
            os._exit(0)


def _spare_payload(jail, requests, failures):
    """H: prepared in advance, runs exactly one script. Never returns."""
    import random
    import resource
    import socket

    try:
        os.setsid()
        os.chdir("/tmp")
        for resource_id, soft, hard in jail.rlimits:
            resource.setrlimit(resource_id, (soft, hard))
        # Nothing random may be shared with the zygote or with another request.
        random.seed()
        numpy = sys.modules.get("numpy")
        if numpy is not None:
            numpy.random.seed()
        try:
            message, fds, _, _ = socket.recv_fds(requests, 64, 16)
        except OSError:
            message = b""
        if not message:
            os._exit(0)  # this spare was never used: its init or the zygote went away
        requests.close()
    except BaseException as exc:
        _report_setup_failure(exc, 74)
    try:
        if message == b"fail":
            raise OSError(1, "seccomp: Operation not permitted (injected fault)")
        # Into the request's cgroups before the script allocates anything, then a cgroup
        # namespace rooted there hides the rest.
        for procs in fds[4:]:
            os.write(procs, b"0")
            os.close(procs)
        jail.check(jail.libc.unshare(CLONE_NEWCGROUP), "unshare(CLONE_NEWCGROUP)")
        null = os.open("/dev/null", os.O_RDONLY)
        lifted = [os.dup(fd) for fd in fds[:4]]
        os.dup2(null, 0)
        for target, fd in zip((3, 1, 2, 4), lifted):
            os.dup2(fd, target)
        keep = failures.fileno()  # open until the end of setup: it carries a failure to G
        os.closerange(5, keep)
        os.closerange(keep + 1, 1 << 16)
        jail.drop_everything()
        failures.close()
    except BaseException as exc:
        try:
            failures.send(repr(exc).encode()[:4000])
        finally:
            os._exit(75)
    main()


def _report_setup_failure(exc, code):
    try:
        os.write(2, ("stacksync: warm sandbox setup failed: %r\n" % (exc,)).encode())
    finally:
        os._exit(code)


if __name__ == "__main__":
    if sys.argv[1:2] == ["zygote"]:
        zygote(sys.argv[2])
    else:
        main()
