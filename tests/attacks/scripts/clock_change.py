"""Attack: set the host clock — clock_settime, settimeofday, clock_adjtime — to the current
time and frequency, so a success changes nothing but shows the clock is the script's."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

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
