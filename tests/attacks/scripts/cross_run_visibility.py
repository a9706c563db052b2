"""Attack: see other requests — look for files other runs left in /tmp, /var/tmp, /dev/shm
(markers this script writes, the outlive_* scripts' files), and meet concurrent runs on an
abstract unix socket and a SysV shared-memory key. The runner starts this twice at once and once more afterwards: no run may
see another's traces."""
import ctypes
import os
import socket
import time
import uuid

PREFIX = "stacksync-attack-marker-"
LINGERERS = ("outlived-child", "outlived-daemon-thread")
LOCATIONS = ("/tmp", "/var/tmp", "/dev/shm", "/run/shm", "/run/lock")
RENDEZVOUS = "\0stacksync-attack-rendezvous"
SHM_KEY = 0x5AC4A77A
IPC_CREAT = 0o1000
IPC_RMID = 0


def traces(own_token):
    found = []
    for location in LOCATIONS:
        try:
            entries = os.listdir(location)
        except OSError:
            continue
        for name in entries:
            if (name.startswith(PREFIX) and not name.endswith(own_token)) or name in LINGERERS:
                found.append(os.path.join(location, name))
    return found


def main():
    token = uuid.uuid4().hex
    before = traces(token)
    tmp_at_start = sorted(os.listdir("/tmp"))
    wrote = []
    for location in LOCATIONS:
        try:
            with open(os.path.join(location, PREFIX + token), "w") as marker:
                marker.write(token)
            wrote.append(location)
        except OSError:
            pass
    met = []
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(RENDEZVOUS)
        met.append("connected to another run's rendezvous socket")
    except OSError:
        pass
    probe.close()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(RENDEZVOUS)
        listener.listen(4)
    except OSError as error:
        met.append("rendezvous name taken: %s" % error.strerror)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.shmget(SHM_KEY, 0, 0) >= 0:
        met.append("found another run's SysV shared memory segment")
    segment = libc.shmget(SHM_KEY, 4096, IPC_CREAT | 0o600)
    time.sleep(0.7)  # overlap with the concurrent run
    if segment >= 0:
        libc.shmctl(segment, IPC_RMID, None)
    after = traces(token)
    return {"token": token, "traces_before": before, "traces_after": after, "met_other_run": met,
            "wrote_markers_in": wrote, "tmp_at_start": tmp_at_start}
