"""Attack: flood stdout with 50 MiB. The service must keep at most its 1 MiB cap, say the output
was truncated, and still finish the run."""
import sys


def main():
    line = (b"A" * 1023 + b"\n") * 1024  # 1 MiB
    for _ in range(50):
        sys.stdout.buffer.write(line)
    sys.stdout.flush()
    return {"wrote_mib": 50}
