"""Attack: read and write another process's memory with process_vm_readv/writev — a child
targets its parent's secret buffer, which same-uid DAC alone would allow."""
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

SYS_PROCESS_VM_READV = 310
SYS_PROCESS_VM_WRITEV = 311
SECRET = b"stacksync-parent-secret"


class IoVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


def transfer(number, parent, remote_address, local_bytes):
    local_buffer = ctypes.create_string_buffer(local_bytes, len(SECRET))
    local = IoVec(ctypes.addressof(local_buffer), len(SECRET))
    remote = IoVec(remote_address, len(SECRET))
    report = raw_syscall(number, parent, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    report["local_after"] = local_buffer.raw.decode("latin-1")
    return report


def main():
    secret = ctypes.create_string_buffer(SECRET, len(SECRET))
    parent = os.getpid()
    address = ctypes.addressof(secret)
    read = in_child(lambda: transfer(SYS_PROCESS_VM_READV, parent, address, b"\0" * len(SECRET)))
    write = in_child(lambda: transfer(SYS_PROCESS_VM_WRITEV, parent, address, b"X" * len(SECRET)))
    return {"readv": read, "writev": write, "parent_secret_after": secret.raw.decode("latin-1")}
