"""Attack: bypass the harness and pour 64 MiB of non-JSON bytes onto every writable pipe fd from
3 up (the result channel among them), then exit. The C++ side must stop reading at its result
limit and answer a clear error within the time limit, not buffer it all or hang."""
import os
import stat


def main():
    chunk = b"\xff{[\"" * (1 << 18)  # 1 MiB
    for fd in range(3, 64):
        try:
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                continue
            for _ in range(64):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
        except OSError:
            pass
    os._exit(0)
