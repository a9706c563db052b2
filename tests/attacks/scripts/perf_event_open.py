"""Attack: perf_event_open(2) — counters on itself (allowed to users at perf_event_paranoid 2),
on the kernel and on pid 1: side channels and a history of kernel exploits."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

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
