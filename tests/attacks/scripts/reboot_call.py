"""Attack: reboot(2). The second magic number is deliberately wrong: the kernel checks
CAP_SYS_BOOT first (EPERM) and the magic after (EINVAL), so EINVAL would reveal the capability
without rebooting anything."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_REBOOT = 169
LINUX_REBOOT_MAGIC1 = 0xFEE1DEAD
BAD_MAGIC2 = 0
LINUX_REBOOT_CMD_RESTART = 0x01234567
LINUX_REBOOT_CMD_POWER_OFF = 0x4321FEDC


def main():
    return {"outcomes": {
        "reboot restart (bad magic)": attempt_syscall(SYS_REBOOT, LINUX_REBOOT_MAGIC1, BAD_MAGIC2, LINUX_REBOOT_CMD_RESTART, None),
        "reboot power off (bad magic)": attempt_syscall(SYS_REBOOT, LINUX_REBOOT_MAGIC1, BAD_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF, None),
    }}
