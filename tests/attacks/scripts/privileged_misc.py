"""Attack: a sweep of privileged calls Docker's profile denies — swapon/swapoff, acct, iopl,
ioperm, vhangup, fanotify_init, quotactl, lookup_dcookie, nfsservctl."""
import ctypes
import errno
import json
import os

# prelude: syscalls  (tests/attacks/prelude/syscalls.py, inserted here by the runner)

SYS_SWAPON = 167
SYS_SWAPOFF = 168
SYS_ACCT = 163
SYS_IOPL = 172
SYS_IOPERM = 173
SYS_VHANGUP = 153
SYS_FANOTIFY_INIT = 300
SYS_QUOTACTL = 179
SYS_LOOKUP_DCOOKIE = 212
SYS_NFSSERVCTL = 180
Q_GETINFO_USRQUOTA = 0x800005 << 8  # QCMD(Q_GETINFO, USRQUOTA)


def main():
    return {"outcomes": {
        "swapon": attempt_syscall(SYS_SWAPON, b"/tmp/stacksync-attack-swap", 0),
        "swapoff": attempt_syscall(SYS_SWAPOFF, b"/tmp/stacksync-attack-swap"),
        "acct(NULL)": attempt_syscall(SYS_ACCT, None),
        "iopl(3)": attempt_syscall(SYS_IOPL, 3),
        "ioperm(0x80)": attempt_syscall(SYS_IOPERM, 0x80, 1, 1),
        "vhangup": attempt_syscall(SYS_VHANGUP),
        "fanotify_init": attempt_syscall(SYS_FANOTIFY_INIT, 0, 0),
        "quotactl Q_GETINFO": attempt_syscall(SYS_QUOTACTL, Q_GETINFO_USRQUOTA, b"/", 0, None),
        "lookup_dcookie": attempt_syscall(SYS_LOOKUP_DCOOKIE, 0, None, 0),
        "nfsservctl": attempt_syscall(SYS_NFSSERVCTL, 0, None, None),
    }}
