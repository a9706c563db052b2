"""Attack: flood stderr with 50 MiB (unbuffered, straight to fd 2). The service must keep at most
its 1 MiB cap, say stderr was truncated, and still finish the run."""
import os


def main():
    line = (b"E" * 1023 + b"\n") * 1024  # 1 MiB
    for _ in range(50):
        view = memoryview(line)
        while view:
            view = view[os.write(2, view):]
    return {"wrote_mib": 50}
