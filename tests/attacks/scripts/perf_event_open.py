"""Attack: perf_event_open(2) — counters on itself (allowed to users at perf_event_paranoid 2),
on the kernel and on pid 1: side channels and a history of kernel exploits."""
import ctypes
import errno
import json
import os

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long


def in_child(action):
    """Runs action() in a forked child and returns its report, or how the child died: a seccomp
    kill (SIGSYS) is then observed instead of ending the whole script."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            report = action()
        except BaseException as error:
            report = {"succeeded": False, "exception": repr(error)}
        os.write(write_end, json.dumps(report).encode())
        os._exit(0)
    os.close(write_end)
    data = b""
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        data += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if not data:
        return {"succeeded": False, "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}
    return json.loads(data)


def raw_syscall(number, *args):
    """One raw syscall; ints travel as C longs so -1 and 64-bit values arrive intact."""
    converted = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    ret = LIBC.syscall(ctypes.c_long(number), *converted)
    if ret == -1:
        code = ctypes.get_errno()
        return {"succeeded": False, "errno": errno.errorcode.get(code, str(code))}
    return {"succeeded": True, "ret": ret}


def attempt_syscall(number, *args):
    return in_child(lambda: raw_syscall(number, *args))

import struct

SYS_PERF_EVENT_OPEN = 298
PERF_TYPE_SOFTWARE = 1
PERF_TYPE_HARDWARE = 0
PERF_COUNT_SW_CPU_CLOCK = 0
PERF_FLAG_FD_CLOEXEC = 8
DISABLED, EXCLUDE_KERNEL, EXCLUDE_HV = 1 << 0, 1 << 5, 1 << 6


def attr(kind, config, flags):
    # struct perf_event_attr, PERF_ATTR_SIZE_VER0 (64 bytes)
    return ctypes.create_string_buffer(struct.pack("<IIQQQQQIIQ", kind, 64, config, 0, 0, 0, flags, 0, 0, 0), 64)


def main():
    user_only = attr(PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, DISABLED | EXCLUDE_KERNEL | EXCLUDE_HV)
    with_kernel = attr(PERF_TYPE_HARDWARE, 0, DISABLED)
    return {"outcomes": {
        "software cpu-clock, user only, self": attempt_syscall(SYS_PERF_EVENT_OPEN, user_only, 0, -1, -1, PERF_FLAG_FD_CLOEXEC),
        "hardware cycles incl. kernel, self": attempt_syscall(SYS_PERF_EVENT_OPEN, with_kernel, 0, -1, -1, PERF_FLAG_FD_CLOEXEC),
        "software cpu-clock, pid 1": attempt_syscall(SYS_PERF_EVENT_OPEN, user_only, 1, -1, -1, PERF_FLAG_FD_CLOEXEC),
    }}
