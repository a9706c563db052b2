"""Attack: inject keystrokes into a terminal with ioctl(TIOCSTI) (and TIOCLINUX) on fds 0-2,
including the 64-bit command variant that slips past filters comparing the whole register,
and open a controlling terminal through /dev/tty."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_IOCTL = 16
TIOCSTI = 0x5412
TIOCLINUX = 0x541C


def main():
    char = ctypes.create_string_buffer(b"x")
    outcomes = {}
    for fd in (0, 1, 2):
        outcomes["TIOCSTI fd %d" % fd] = attempt_syscall(SYS_IOCTL, fd, TIOCSTI, char)
        outcomes["TIOCLINUX fd %d" % fd] = attempt_syscall(SYS_IOCTL, fd, TIOCLINUX, char)
        # The kernel truncates the command to 32 bits; a filter comparing all 64 would miss this.
        outcomes["TIOCSTI high bits fd %d" % fd] = attempt_syscall(SYS_IOCTL, fd, TIOCSTI | (0xFFFFFFFF << 32), char)
    try:
        os.close(os.open("/dev/tty", os.O_RDWR))
        tty = "opened"
    except OSError as error:
        tty = "%s: %s" % (type(error).__name__, error.strerror)
    return {"outcomes": outcomes, "dev_tty": tty, "sid": os.getsid(0), "pid": os.getpid(), "pgrp": os.getpgrp()}
