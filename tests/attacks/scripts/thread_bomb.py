"""Attack: start threads until the kernel refuses (each thread is a task and counts against the
pids limit), leave them all running, and return."""
import threading


def main():
    started = 0
    error = None
    stop = threading.Event()
    while started < 100000:
        try:
            threading.Thread(target=stop.wait, args=(60,), daemon=True).start()
        except RuntimeError as exc:
            error = str(exc)
            break
        started += 1
    return {"started": started, "error": error}
