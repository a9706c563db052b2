"""Attack: spread memory over forked children, four of them holding 200 MiB each at the same time,
so no single process looks big. The limit must cover the whole process tree: at most two can
hold their 200 MiB."""
import os
import time

CHILDREN = 4
CHUNK = 200 << 20


def main():
    read_end, write_end = os.pipe()
    pids = []
    for _ in range(CHILDREN):
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            held = bytearray(b"\x01" * CHUNK)
            os.write(write_end, b"+")
            time.sleep(2.5)  # hold the memory while the siblings allocate
            os._exit(0 if held else 1)
        pids.append(pid)
    os.close(write_end)
    holders = 0
    while True:
        chunk = os.read(read_end, 16)
        if not chunk:
            break
        holders += chunk.count(b"+")
    endings = []
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        endings.append("signal %d" % os.WTERMSIG(status) if os.WIFSIGNALED(status) else "exit %d" % os.WEXITSTATUS(status))
    return {"children_holding_200mib": holders, "endings": endings}
