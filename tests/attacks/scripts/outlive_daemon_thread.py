"""Attack: a daemon thread that outlives main — it waits a second, drops a file in /tmp, then
prints forever. The run must end promptly after main returns and the thread must never print."""
import threading
import time


def linger():
    time.sleep(1.0)
    with open("/tmp/outlived-daemon-thread", "w") as marker:
        marker.write("the daemon thread outlived main\n")
    while True:
        print("daemon thread still running", flush=True)
        time.sleep(0.05)


def main():
    threading.Thread(target=linger, daemon=True).start()
    return {"thread_started": True}
