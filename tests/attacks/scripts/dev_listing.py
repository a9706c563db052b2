"""Attack: inventory /dev for device nodes to abuse (disks, memory, kernel log, terminals, kvm,
fuse, tun). Only null, zero, random and urandom may be devices; fd/stdin/stdout/stderr may be
symlinks."""
import os
import stat


def main():
    entries = {}
    for name in sorted(os.listdir("/dev")):
        path = "/dev/" + name
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            kind = "symlink -> " + os.readlink(path)
        elif stat.S_ISCHR(info.st_mode):
            kind = "char %d:%d" % (os.major(info.st_rdev), os.minor(info.st_rdev))
        elif stat.S_ISBLK(info.st_mode):
            kind = "block %d:%d" % (os.major(info.st_rdev), os.minor(info.st_rdev))
        elif stat.S_ISDIR(info.st_mode):
            kind = "directory"
        else:
            kind = "other"
        entries[name] = kind
    return {"entries": entries, "mem_exists": os.path.lexists("/dev/mem"), "kmsg_exists": os.path.lexists("/dev/kmsg")}
