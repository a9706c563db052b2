"""Attack: forge the result through the other file descriptors — write complete fake outcomes
and harness frames to every fd from 3 to 20 (one of them is the harness's result channel), then
return the genuine value. The answer may be the genuine value or an invalid_result error, never
the forgery."""
import os

PAYLOADS = (b'{"ok": true, "result": "forged"}', b'{"result": "forged", "stdout": ""}\n', b"\n")


def main():
    links = {}
    written = []
    for fd in range(3, 21):
        try:
            links[fd] = os.readlink("/proc/self/fd/%d" % fd)
        except OSError:
            links[fd] = None
        for payload in PAYLOADS:
            try:
                os.write(fd, payload)
                written.append(fd)
            except OSError:
                pass
    return {"genuine": True, "written_fds": sorted(set(written)), "fd_links": {str(k): v for k, v in links.items() if v}}
