"""Attack: look into the host's private directories — /root, /home, /var, the project checkout
under /work, /srv, /opt, /mnt, /boot, /run. Each must be absent or empty inside the sandbox."""
import os

DIRECTORIES = ["/root", "/home", "/var", "/var/lib", "/var/log", "/work", "/work/main", "/srv",
               "/opt", "/mnt", "/media", "/boot", "/run", "/snap", "/lost+found", "/app", "/data"]


def main():
    visible = {}
    for directory in DIRECTORIES:
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        if entries:
            visible[directory] = sorted(entries)[:20]
    try:
        root_entries = sorted(os.listdir("/"))
    except OSError as error:
        root_entries = ["ERROR %s" % error]
    return {"non_empty": visible, "root_entries": root_entries}
