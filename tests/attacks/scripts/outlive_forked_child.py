"""Attack: leave a daemon behind — a double-forked child in its own session that waits a second
(so main has returned), then drops a file in /tmp and keeps printing with stdout held open. The
run must end promptly after main returns, the child must never print, and nothing may survive
(the runner checks the host's process table and a later run's /tmp)."""
import os
import time


def main():
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        time.sleep(1.0)
        with open("/tmp/outlived-child", "w") as marker:
            marker.write("the forked child outlived main\n")
        for _ in range(600):
            print("forked child still running", flush=True)
            time.sleep(0.05)
        os._exit(0)
    os.waitpid(first, 0)
    return {"daemon_started": True}
