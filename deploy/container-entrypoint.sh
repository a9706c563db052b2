#!/bin/sh
# Entry point of the container image (run by tini as PID 1): makes the container's own cgroup
# writable, then becomes `stacksync`.
#
# Why: the jail gives every sandbox a cgroup of its own (memory and pids limits), created below
# the service's cgroup. Docker, podman and containerd mount /sys/fs/cgroup read-only unless the
# container is privileged. A container granted CAP_SYS_ADMIN may remount its own view of its
# cgroup read-write; nothing above the container's cgroup becomes visible or writable by that.
# Without the capability the remount fails, nothing changes, and the service itself reports the
# read-only cgroup and refuses to run scripts (fail closed).
set -u

log_json() {  # log_json SEVERITY MESSAGE: the service's own log format (one JSON object a line)
  printf '{"severity":"%s","message":"%s","component":"entrypoint"}\n' "$1" "$2" >&2
}

# /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS"
while read -r _ _ _ _ mount_point options rest; do
  case "$mount_point" in /sys/fs/cgroup | /sys/fs/cgroup/*) ;; *) continue ;; esac
  case " $rest " in
    *" - cgroup2 "*) ;;
    # v1: only the hierarchies the jail uses.
    *" - cgroup "*memory* | *" - cgroup "*pids*) ;;
    *) continue ;;
  esac
  case ",$options," in *,ro,*) ;; *) continue ;; esac
  if mount -o remount,bind,rw "$mount_point" 2>/dev/null; then
    log_json INFO "remounted $mount_point read-write for the sandbox cgroups"
  else
    log_json WARNING "$mount_point is read-only and cannot be remounted (no CAP_SYS_ADMIN?): sandboxes need a writable cgroup"
  fi
done </proc/self/mountinfo

exec /usr/local/bin/stacksync "$@"
