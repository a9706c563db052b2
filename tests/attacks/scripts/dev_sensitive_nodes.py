"""Attack: open the device nodes that break a sandbox — physical memory, I/O ports, the kernel
log, disks, the controlling terminal, the console, ptmx, fuse, tun, kvm, vsock, loop devices,
CPU MSRs."""
import os

NODES = ["/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg", "/dev/sda", "/dev/vda", "/dev/nvme0n1",
         "/dev/tty", "/dev/tty0", "/dev/console", "/dev/ptmx", "/dev/pts/ptmx", "/dev/fuse", "/dev/net/tun",
         "/dev/kvm", "/dev/vsock", "/dev/vhost-vsock", "/dev/userfaultfd", "/dev/loop0", "/dev/loop-control",
         "/dev/cpu/0/msr", "/dev/hwrng", "/dev/btrfs-control", "/dev/autofs", "/dev/full"]


def main():
    opened = []
    outcomes = {}
    for path in NODES:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as error:
            outcomes[path] = "%s: %s" % (type(error).__name__, error.strerror)
            continue
        os.close(fd)
        opened.append(path)
        outcomes[path] = "opened"
    return {"opened": opened, "outcomes": outcomes}
