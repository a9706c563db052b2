"""Attack: rename the machine with sethostname/setdomainname. The current names are written back,
so a success would change nothing — but it is the finding: without its own UTS namespace and
capabilities dropped this would rename the host."""
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

SYS_SETHOSTNAME = 170
SYS_SETDOMAINNAME = 171


def main():
    current = os.uname()
    host = current.nodename.encode()
    domain = open("/proc/sys/kernel/domainname", "rb").read().strip() if os.path.exists("/proc/sys/kernel/domainname") else b""
    return {"nodename": current.nodename, "outcomes": {
        "sethostname (same name)": attempt_syscall(SYS_SETHOSTNAME, host, len(host)),
        "setdomainname (same name)": attempt_syscall(SYS_SETDOMAINNAME, domain, len(domain)),
    }}
