#!/usr/bin/env bash
# Proves the container image works: builds it with podman (no Docker engine here), runs it with
# --privileged, sends the public examples and a few attacks over HTTP, checks graceful SIGTERM,
# then tries narrower flag sets and checks that each either works or fails closed.
#
#   bash tests/container/run.sh            # as root, from anywhere
#
# Environment:
#   STACKSYNC_CI_CACHE      where the debootstrapped base images are cached (/var/cache/stacksync-ci)
#   STACKSYNC_CI_KEEP_CACHE=1  keep podman's layer cache between runs (faster reruns)
#
# Prints `N passed, M failed` last; exits non-zero if anything failed.
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly HERE="$REPO_ROOT/tests/container"
readonly PROBE=(/usr/bin/python3 "$HERE/probe.py")
readonly CACHE_DIR="${STACKSYNC_CI_CACHE:-/var/cache/stacksync-ci}"
readonly RUN_ID="$$"
readonly IMAGE="localhost/stacksync-ci:run$RUN_ID"
WORK="$(mktemp -d /tmp/stacksync-container.XXXXXX)"
readonly WORK
readonly SLIM_BASE=docker.io/library/debian:bookworm-slim
readonly FULL_BASE=docker.io/library/debian:bookworm
# Base tarballs older than this are rebuilt, so CI does not test on a stale Debian forever.
readonly BASE_MAX_AGE_DAYS=30

# Flag sets that deploy/README-deploy.md promises to work without --privileged: the narrowest
# for docker/podman run, and the podman equivalent of the Kubernetes securityContext. The run
# fails if either does not work.
readonly MUST_WORK_FLAGS=(
  "--cap-add SYS_ADMIN --cgroupns=private"
  "--cap-drop ALL --cap-add SYS_ADMIN,SETUID,SETGID --cgroupns=private --read-only"
)

passed=0
failed=0
containers=()
# The flags of the service the functional checks run against: the quick start's, unless that
# one does not come up.
service_flags=(--privileged)

log() { printf '[container] %s\n' "$*" >&2; }
pass() { passed=$((passed + 1)); printf 'PASS %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL %s\n' "$*"; }

# Runs probe.py and counts its PASS/FAIL lines as checks of this script.
probe_checks() {
  local out="$WORK/probe.$RANDOM.out"
  "${PROBE[@]}" "$@" >"$out" 2>&1
  local rc=$?
  local line
  while IFS= read -r line; do
    case "$line" in
      PASS\ *) pass "${line#PASS }" ;;
      FAIL\ *) fail "${line#FAIL }" ;;
      *) printf '  %s\n' "$line" ;;
    esac
  done <"$out"
  return $rc
}

cleanup() {
  local c
  for c in "${containers[@]}"; do
    podman rm -f --time 2 "$c" >/dev/null 2>&1
  done
  podman rmi -f "$IMAGE" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- tools ----------------------------------------------------------------------------------

install_tools() {
  local needed=()
  command -v podman >/dev/null || needed+=(podman)
  command -v runc >/dev/null || needed+=(runc)
  command -v debootstrap >/dev/null || needed+=(debootstrap)
  command -v newuidmap >/dev/null || needed+=(uidmap)
  command -v slirp4netns >/dev/null || needed+=(slirp4netns)
  command -v fuse-overlayfs >/dev/null || needed+=(fuse-overlayfs)
  /usr/bin/python3 -c 'import pytest' 2>/dev/null || needed+=(python3-pytest)
  if ((${#needed[@]})); then
    log "installing ${needed[*]}"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${needed[@]}"; } >"$WORK/apt.log" 2>&1; then
      tail -20 "$WORK/apt.log"
      return 1
    fi
  fi
}

# Podman's defaults assume systemd (cgroup manager, journald events); this machine runs
# without it. Explicit ulimits: podman's defaults (1048576) fail here because this root lacks
# CAP_SYS_RESOURCE; stay at or below this shell's hard limits.
ulimit_nofile=""
ulimit_nproc=""
configure_podman() {
  local conf=/etc/containers/containers.conf nofile nproc
  nofile="$(ulimit -Hn)"
  nproc="$(ulimit -Hu)"
  [[ $nofile == unlimited || $nofile -gt 65536 ]] && nofile=65536
  # runc could not set nproc above kernel.pid_max here (EPERM at 32769 with pid_max 32768).
  local pid_max
  pid_max="$(cat /proc/sys/kernel/pid_max)"
  [[ $nproc == unlimited || $nproc -gt $pid_max ]] && nproc=$pid_max
  ulimit_nofile="nofile=$nofile:$nofile"
  ulimit_nproc="nproc=$nproc:$nproc"
  if [[ -f $conf ]] && ! grep -q 'stacksync tests/container' "$conf"; then
    # Someone else's configuration: leave it, and use ours for this run only.
    conf="$WORK/containers.conf"
    export CONTAINERS_CONF="$conf"
  fi
  mkdir -p "$(dirname "$conf")"
  cat >"$conf" <<EOF
# Written by stacksync tests/container/run.sh: podman on a machine without systemd or Docker.
[containers]
default_ulimits = ["$ulimit_nofile", "$ulimit_nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
}

# ---- base images ----------------------------------------------------------------------------

# The apt mirror this machine already uses (debootstrap's own default otherwise).
host_debian_mirror() {
  grep -m1 -ohP '^URIs:\s*\K\S+' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
    grep -m1 -ohP '^deb\s+\K(http\S+)(?=\s+bookworm\s)' /etc/apt/sources.list 2>/dev/null ||
    true
}

# Debootstraps bookworm (minbase, as the official images are) and writes two rootfs tarballs:
# the plain one (debian:bookworm) and one slimmed as debian:bookworm-slim is (no docs, man
# pages or locales, and dpkg told to keep it that way).
make_base_tarballs() {
  local rootfs="$WORK/rootfs" mirror
  mirror="$(host_debian_mirror)"
  log "debootstrap --variant=minbase bookworm (${mirror:-default mirror})"
  debootstrap --variant=minbase bookworm "$rootfs" ${mirror:+"$mirror"} >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log"; return 1; }

  # What the official images add: full apt sources (updates, security), no translations,
  # no package caches left behind, no daemons started by maintainer scripts.
  if [[ -f /etc/apt/sources.list.d/debian.sources ]] && grep -q bookworm /etc/apt/sources.list.d/debian.sources; then
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/debian.sources"
    rm -f "$rootfs/etc/apt/sources.list"
  fi
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d" && chmod 755 "$rootfs/usr/sbin/policy-rc.d"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log \
    "$rootfs"/tmp/* "$rootfs"/root/.bash_history
  tar --numeric-owner -C "$rootfs" -cf "$CACHE_DIR/debian-bookworm-rootfs.tar.new" . &&
    mv "$CACHE_DIR/debian-bookworm-rootfs.tar.new" "$CACHE_DIR/debian-bookworm-rootfs.tar" || return 1

  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{groff,info,linda,lintian,man}/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  tar --numeric-owner -C "$rootfs" -cf "$CACHE_DIR/debian-bookworm-slim-rootfs.tar.new" . &&
    mv "$CACHE_DIR/debian-bookworm-slim-rootfs.tar.new" "$CACHE_DIR/debian-bookworm-slim-rootfs.tar" || return 1
  rm -rf "$rootfs"
}

import_base() {
  local tarball="$1" name="$2"
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$tarball" "$name" >/dev/null
}

# Makes the Dockerfile's FROM lines resolve without a registry: pull if one is reachable,
# otherwise import the debootstrapped tarballs under the official names.
ensure_base_images() {
  mkdir -p "$CACHE_DIR"
  if podman image exists "$SLIM_BASE" && podman image exists "$FULL_BASE"; then
    log "base images present"
    return 0
  fi
  if timeout 60 podman pull -q "$SLIM_BASE" >/dev/null 2>&1 && timeout 60 podman pull -q "$FULL_BASE" >/dev/null 2>&1; then
    log "base images pulled"
    return 0
  fi
  local full="$CACHE_DIR/debian-bookworm-rootfs.tar" slim="$CACHE_DIR/debian-bookworm-slim-rootfs.tar"
  if [[ ! -f $full || ! -f $slim ]] || [[ -n $(find "$full" -mtime +$BASE_MAX_AGE_DAYS) ]]; then
    make_base_tarballs || return 1
  fi
  import_base "$full" "$FULL_BASE" && import_base "$slim" "$SLIM_BASE" && log "base images imported from $CACHE_DIR"
}

# ---- image ----------------------------------------------------------------------------------

build_image() {
  local layers=false
  [[ ${STACKSYNC_CI_KEEP_CACHE:-0} == 1 ]] && layers=true
  log "podman build -t $IMAGE (layers=$layers)"
  local started=$SECONDS
  # --format docker keeps the HEALTHCHECK instruction (OCI images have no such field).
  # podman build ignores default_ulimits for RUN steps: pass them again.
  if ! podman build --pull=never --layers="$layers" --format docker \
    --ulimit "$ulimit_nofile" --ulimit "$ulimit_nproc" -t "$IMAGE" -f "$REPO_ROOT/Dockerfile" \
    "$REPO_ROOT" >"$WORK/build.log" 2>&1; then
    tail -40 "$WORK/build.log"
    return 1
  fi
  log "built in $((SECONDS - started)) s"
}

image_size_mb() {
  podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f", $1 / 1000000 }'
}

# ---- containers -----------------------------------------------------------------------------

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_container NAME PORT [podman run flags...]: published on loopback only.
start_container() {
  local name="$1" port="$2"
  shift 2
  containers+=("$name")
  podman run -d --name "$name" -p "127.0.0.1:$port:8080" "$@" "$IMAGE" >/dev/null 2>"$WORK/$name.run.err"
}

container_logs() { podman logs "$1" 2>&1; }

main() {
  if ((EUID != 0)); then
    echo "run as root (podman builds and runs rootful here)" >&2
    exit 2
  fi
  install_tools || { fail "install podman and friends"; finish; }
  configure_podman
  if ensure_base_images; then
    pass "base images available ($SLIM_BASE, $FULL_BASE)"
  else
    fail "base images"
    finish
  fi
  if build_image; then
    pass "image builds"
  else
    fail "image builds (see build log above)"
    finish
  fi

  local size
  size="$(image_size_mb)"
  if ((size < 400)); then pass "image size ${size} MB < 400 MB"; else fail "image size ${size} MB >= 400 MB"; fi
  if podman run --rm --entrypoint /bin/sh "$IMAGE" -c \
    'for t in gcc g++ cc c++ cmake make ld; do command -v $t && exit 1; done; exit 0' >"$WORK/tools.out" 2>&1; then
    pass "runtime image holds no compiler or build tool"
  else
    fail "runtime image holds build tools: $(cat "$WORK/tools.out")"
  fi

  # -- the documented quick start: --privileged ------------------------------------------------
  local port name url
  name="stacksync-ci-$RUN_ID-privileged"
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  start_container "$name" "$port" "${service_flags[@]}"
  if ! probe_checks healthy "$url" 60; then
    log "--privileged: the service did not become healthy; its log:"
    container_logs "$name" | tail -20 | sed 's/^/    log: /'
    # Go on with a private cgroup namespace (Docker's default on cgroup v2 hosts), so that the
    # remaining checks still report on the image.
    name="stacksync-ci-$RUN_ID-privileged-cgroupns"
    port="$(free_port)"
    url="http://127.0.0.1:$port"
    log "continuing with --privileged --cgroupns=private"
    service_flags=(--privileged --cgroupns=private)
    start_container "$name" "$port" "${service_flags[@]}"
    if ! probe_checks healthy "$url" 60; then
      container_logs "$name" | tail -20 | sed 's/^/    log: /'
      check_port_variable
      check_narrow_flags
      finish
    fi
  fi
  check_running_service "$name" "$url"

  check_port_variable
  check_narrow_flags
  finish
}

# Everything that needs a healthy service: examples, attacks, latency, logs, health check, drain.
check_running_service() {
  local name="$1" url="$2"
  if [[ "$(podman exec "$name" cat /proc/1/comm 2>/dev/null)" == tini ]]; then
    pass "tini is PID 1"
  else
    fail "tini is not PID 1"
  fi
  if podman healthcheck run "$name" >/dev/null 2>&1; then
    pass "the image's HEALTHCHECK passes"
  else
    fail "the image's HEALTHCHECK fails"
  fi
  probe_checks examples "$url"
  probe_checks attacks "$url" "$name"
  if [[ -f $REPO_ROOT/tests/attacks/test_attacks.py ]]; then
    log "running tests/attacks against the container"
    if (cd "$REPO_ROOT" && STACKSYNC_URL="$url" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/attacks \
      >"$WORK/pytest-attacks.log" 2>&1); then
      pass "tests/attacks over HTTP: $(tail -1 "$WORK/pytest-attacks.log")"
    else
      tail -30 "$WORK/pytest-attacks.log"
      fail "tests/attacks over HTTP: $(tail -1 "$WORK/pytest-attacks.log")"
    fi
  else
    log "tests/attacks/test_attacks.py not present: skipped"
  fi
  probe_checks latency "$url" 20
  # SIGTERM through tini while a request runs: it completes, then the service exits 0.
  probe_checks drain "$url" "$name"
  probe_checks logs-are-json <(container_logs "$name")
}

# Cloud Run chooses the port through $PORT.
check_port_variable() {
  local name="stacksync-ci-$RUN_ID-port" port
  port="$(free_port)"
  containers+=("$name")
  podman run -d --name "$name" "${service_flags[@]}" -e PORT=9090 -p "127.0.0.1:$port:9090" "$IMAGE" >/dev/null 2>&1
  if "${PROBE[@]}" healthy "http://127.0.0.1:$port" 60 >/dev/null 2>&1; then
    pass "honours PORT=9090 (${service_flags[*]})"
  else
    fail "does not serve on PORT=9090"
    container_logs "$name" | tail -10
  fi
  podman rm -f --time 2 "$name" >/dev/null 2>&1
}

# Each flag set must end in one of these states: the jail works (and holds); the service fails
# closed (503 on /healthz and /execute, an error in its log); or it refuses to start (exit code
# 3, a CRITICAL line in its log naming what is missing). Anything else fails.
check_narrow_flags() {
  local flag_sets=(
    ""
    "--security-opt seccomp=unconfined --cgroupns=private"
    "--cap-add SYS_ADMIN"
    "--cap-drop ALL --cap-add SYS_ADMIN --cgroupns=private"
    "--uidmap 0:200000:65536 --gidmap 0:200000:65536 --cap-add SYS_ADMIN --cgroupns=private"
    "${MUST_WORK_FLAGS[@]}"
    "--privileged --cgroupns=private"
  )
  printf '%s\n' "flag set | outcome" >"$WORK/flags.table"
  local i flags name port verdict rc outcome state
  local -a words
  for i in "${!flag_sets[@]}"; do
    flags="${flag_sets[$i]}"
    # No globbing: "unmask=/proc/*" goes to podman as written.
    set -f
    read -ra words <<<"$flags"
    set +f
    name="stacksync-ci-$RUN_ID-flags$i"
    port="$(free_port)"
    start_container "$name" "$port" "${words[@]}"
    verdict="$("${PROBE[@]}" flagset "http://127.0.0.1:$port" 30 "$name" 2>&1)"
    rc=$?
    outcome="${verdict##*$'\n'}"
    # (grep without -q: under pipefail, -q stopping early would fail the pipeline with SIGPIPE)
    state="$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$name" 2>/dev/null)"
    if ((rc == 0)); then
      pass "flags [${flags:-none}]: $outcome"
    elif ((rc == 3)) && container_logs "$name" | grep -E '"severity": *"(ERROR|CRITICAL)"' >/dev/null; then
      pass "flags [${flags:-none}]: $outcome; its log says why"
    elif [[ $state == "exited 3" ]] && container_logs "$name" | grep -E '"severity": *"CRITICAL"' >/dev/null; then
      outcome="refuses to start (exit 3): $(container_logs "$name" | grep -m1 -E '"severity": *"CRITICAL"' |
        /usr/bin/python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["message"][:220])' 2>/dev/null)"
      pass "flags [${flags:-none}]: $outcome"
    else
      outcome="BROKEN ($state): $outcome"
      fail "flags [${flags:-none}]: $outcome"
      container_logs "$name" | tail -8 | sed 's/^/    log: /'
    fi
    printf '%s | %s\n' "${flags:-(none)}" "$outcome" >>"$WORK/flags.table"
    local promised
    for promised in "${MUST_WORK_FLAGS[@]}"; do
      [[ $flags == "$promised" ]] || continue
      if ((rc == 0)); then
        pass "documented flag set [$flags] works"
      else
        fail "documented flag set [$flags] does not work"
      fi
    done
    podman rm -f --time 2 "$name" >/dev/null 2>&1
  done
  echo
  cat "$WORK/flags.table"
}

finish() {
  echo
  echo "$passed passed, $failed failed"
  ((failed == 0)) && exit 0 || exit 1
}

main "$@"
