"""Attack: bypass the harness and write a frame nested 200,000 levels deep straight onto every
writable pipe fd from 3 up (the result channel among them), then exit at once. The C++ side
must answer a clear error, without crashing on the depth."""
import os
import stat

DEPTH = 200_000


def main():
    frame = b'{"ok": true, "result": ' + b"[" * DEPTH + b"]" * DEPTH + b"}"
    for fd in range(3, 64):
        try:
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                continue
            view = memoryview(frame)
            while view:
                view = view[os.write(fd, view):]
        except OSError:
            pass
    os._exit(0)
