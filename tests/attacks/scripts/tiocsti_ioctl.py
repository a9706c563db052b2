"""Attack: inject keystrokes into a terminal with ioctl(TIOCSTI) (and TIOCLINUX) on fds 0-2,
including the 64-bit command variant that slips past filters comparing the whole register,
and open a controlling terminal through /dev/tty."""
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
