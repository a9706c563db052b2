"""Attack: take the CPU away from the host — real-time scheduling (SCHED_FIFO/SCHED_RR/
SCHED_DEADLINE), the highest nice priority, the real-time I/O class, raising RLIMIT_RTPRIO and
pinning onto other CPUs' time. A real-time spinner would starve the service on its core."""
import ctypes
import errno
import os
import resource
import struct

SYS_SCHED_SETATTR = 314
SYS_IOPRIO_SET = 251
IOPRIO_WHO_PROCESS = 1
IOPRIO_CLASS_RT = 1
SCHED_DEADLINE = 6


def attempt(action, *args):
    try:
        action(*args)
        return "succeeded"
    except (OSError, ValueError) as error:
        return "%s: %s" % (type(error).__name__, error)


def raw(number, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    ret = libc.syscall(ctypes.c_long(number), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    return "succeeded" if ret != -1 else errno.errorcode.get(ctypes.get_errno(), "?")


def main():
    # struct sched_attr: size, policy, flags, nice, priority, runtime, deadline, period
    deadline_attr = ctypes.create_string_buffer(struct.pack("<IIQiIQQQ", 48, SCHED_DEADLINE, 0, 0, 0,
                                                            10_000_000, 30_000_000, 30_000_000), 48)
    outcomes = {
        "SCHED_FIFO 99": attempt(os.sched_setscheduler, 0, os.SCHED_FIFO, os.sched_param(99)),
        "SCHED_RR 1": attempt(os.sched_setscheduler, 0, os.SCHED_RR, os.sched_param(1)),
        "SCHED_DEADLINE": raw(SYS_SCHED_SETATTR, 0, deadline_attr, 0),
        "nice -20": attempt(os.setpriority, os.PRIO_PROCESS, 0, -20),
        "ioprio realtime": raw(SYS_IOPRIO_SET, IOPRIO_WHO_PROCESS, 0, (IOPRIO_CLASS_RT << 13) | 0),
        "RLIMIT_RTPRIO 99": attempt(resource.setrlimit, resource.RLIMIT_RTPRIO, (99, 99)),
    }
    return {"succeeded": sorted(k for k, v in outcomes.items() if v == "succeeded"), "outcomes": outcomes,
            "policy": os.sched_getscheduler(0), "nice": os.getpriority(os.PRIO_PROCESS, 0)}
