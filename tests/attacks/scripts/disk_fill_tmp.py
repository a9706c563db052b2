"""Attack: fill /tmp (a tmpfs, whose pages are RAM) with 8 MiB files until the kernel says stop."""
import errno
import os


def main():
    chunk = b"\x02" * (1 << 20)
    written = 0
    stopped_by = None
    for index in range(512):
        try:
            with open("/tmp/fill-%03d" % index, "wb", buffering=0) as target:
                for _ in range(8):
                    target.write(chunk)
                    written += 1
        except OSError as error:
            stopped_by = errno.errorcode.get(error.errno, str(error.errno))
            break
    stats = os.statvfs("/tmp")
    return {"written_mib": written, "stopped_by": stopped_by,
            "tmp_size_mib": stats.f_blocks * stats.f_frsize / (1 << 20)}
