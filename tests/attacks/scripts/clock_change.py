"""Attack: set the host clock — clock_settime, settimeofday, clock_adjtime — to the current
time and frequency, so a success changes nothing but shows the clock is the script's."""
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
import time

SYS_SETTIMEOFDAY = 164
SYS_CLOCK_SETTIME = 227
SYS_CLOCK_ADJTIME = 305
CLOCK_REALTIME = 0
ADJ_FREQUENCY = 0x0002
TIMEX_SIZE = 208


def main():
    now = time.time()
    seconds, nanos = int(now), int((now % 1) * 1e9)
    timespec = ctypes.create_string_buffer(struct.pack("<qq", seconds, nanos), 16)
    timeval = ctypes.create_string_buffer(struct.pack("<qq", seconds, nanos // 1000), 16)
    timex = ctypes.create_string_buffer(TIMEX_SIZE)
    read_only = raw_syscall(SYS_CLOCK_ADJTIME, CLOCK_REALTIME, timex)  # modes 0: a read
    struct.pack_into("<I", timex, 0, ADJ_FREQUENCY)  # write back the frequency just read
    return {"adjtime_read": read_only, "outcomes": {
        "clock_settime(now)": attempt_syscall(SYS_CLOCK_SETTIME, CLOCK_REALTIME, timespec),
        "settimeofday(now)": attempt_syscall(SYS_SETTIMEOFDAY, timeval, None),
        "clock_adjtime(same frequency)": attempt_syscall(SYS_CLOCK_ADJTIME, CLOCK_REALTIME, timex),
    }}
