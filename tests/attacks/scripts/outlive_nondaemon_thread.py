"""Attack: a non-daemon thread that never finishes — a normal interpreter exit would wait for it
forever. The run must still end promptly after main returns, with main's result, and the thread
must never print."""
import threading
import time


def linger():
    time.sleep(1.0)
    while True:
        print("non-daemon thread still running", flush=True)
        time.sleep(0.05)


def main():
    threading.Thread(target=linger, daemon=False).start()
    return {"thread_started": True}
