"""Attack: personality(2) flags that weaken exploitation defences — disable ASLR
(ADDR_NO_RANDOMIZE), make reads executable, legacy layouts, map page zero."""
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

SYS_PERSONALITY = 135
QUERY = 0xFFFFFFFF
ADDR_NO_RANDOMIZE = 0x0040000
READ_IMPLIES_EXEC = 0x0400000
ADDR_COMPAT_LAYOUT = 0x0200000
MMAP_PAGE_ZERO = 0x0100000


def set_and_read(flag):
    report = raw_syscall(SYS_PERSONALITY, flag)
    report["after"] = raw_syscall(SYS_PERSONALITY, QUERY).get("ret")
    return report


def main():
    current = raw_syscall(SYS_PERSONALITY, QUERY)
    return {"current": current, "outcomes": {
        name: in_child(lambda flag=flag: set_and_read(flag))
        for name, flag in (("ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE), ("READ_IMPLIES_EXEC", READ_IMPLIES_EXEC),
                           ("ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT), ("MMAP_PAGE_ZERO", MMAP_PAGE_ZERO))
    }}
