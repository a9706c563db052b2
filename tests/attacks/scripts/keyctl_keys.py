"""Attack: the kernel keyring — add_key, request_key, keyctl — shared across the host's processes
of a uid and a long source of kernel bugs."""
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

SYS_ADD_KEY = 248
SYS_REQUEST_KEY = 249
SYS_KEYCTL = 250
KEY_SPEC_PROCESS_KEYRING = -2
KEY_SPEC_USER_KEYRING = -4
KEYCTL_GET_KEYRING_ID = 0
KEYCTL_JOIN_SESSION_KEYRING = 1


def main():
    outcomes = {
        "add_key": attempt_syscall(SYS_ADD_KEY, b"user", b"stacksync-attack", b"secret", 6, KEY_SPEC_PROCESS_KEYRING),
        "request_key": attempt_syscall(SYS_REQUEST_KEY, b"user", b"stacksync-attack", None, 0),
        "keyctl get user keyring": attempt_syscall(SYS_KEYCTL, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 1),
        "keyctl join session": attempt_syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, b"stacksync-attack"),
    }
    return {"outcomes": outcomes}
