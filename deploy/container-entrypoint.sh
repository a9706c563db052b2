#!/bin/sh
# Entry point of the container image (run by tini as PID 1): gives the jail the two things that
# container runtimes withhold from an unprivileged container even when it holds CAP_SYS_ADMIN,
# then becomes `stacksync`.
#
# 1. An unmasked /proc. Runtimes cover parts of /proc (kcore, keys, timer_list, sys, ...) with
#    bind mounts. The kernel lets a new user namespace mount a fresh proc (the sandbox's own pid
#    namespace needs one) only if no proc mount it can see has something mounted over it, so
#    with the masks in place every sandbox fails at "mount proc". The masks only hide things
#    from this container's own processes: the trusted service. Sandboxes never see this /proc;
#    they get a fresh one of their own pid namespace. A holder of CAP_SYS_ADMIN can remove the
#    masks anyway, so doing it here grants nothing beyond the capability.
# 2. A writable cgroup. Every sandbox gets a cgroup of its own (memory and pids limits), created
#    below the service's cgroup; runtimes mount /sys/fs/cgroup read-only unless privileged. The
#    container's own view is remounted read-write; nothing above its cgroup becomes visible.
#
# Without CAP_SYS_ADMIN both steps fail, nothing changes, and the service reports what is missing
# and refuses to run scripts (fail closed).
set -u

log_json() {  # log_json SEVERITY MESSAGE: the service's own log format (one JSON object a line)
  printf '{"severity":"%s","message":"%s","component":"entrypoint"}\n' "$1" "$2" >&2
}

# /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS"

# 1. Mounts below /proc, deepest first.
proc_masks="$(while read -r _ _ _ _ mount_point _; do
  case "$mount_point" in /proc/*) echo "$mount_point" ;; esac
done </proc/self/mountinfo | sort -r)"
if [ -n "$proc_masks" ]; then
  failed=""
  for mount_point in $proc_masks; do
    umount "$mount_point" 2>/dev/null || failed="$failed $mount_point"
  done
  if [ -z "$failed" ]; then
    log_json INFO "removed the runtime's masks over /proc (sandboxes need to mount a fresh proc)"
  else
    log_json WARNING "cannot unmount the masks over:$failed (no CAP_SYS_ADMIN?): sandboxes cannot mount their own /proc"
  fi
fi

# 2. Read-only cgroup mounts: the v2 one, or the v1 hierarchies the jail uses.
while read -r _ _ _ _ mount_point options rest; do
  case "$mount_point" in /sys/fs/cgroup | /sys/fs/cgroup/*) ;; *) continue ;; esac
  case " $rest " in
    *" - cgroup2 "*) ;;
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

exec /opt/stacksync/bin/stacksync "$@"
