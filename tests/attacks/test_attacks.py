"""Escape and abuse attempts against the StackSync sandbox.

Each file in scripts/ is one attack: a real script whose main() tries one thing and returns what
it observed. EXPECTATIONS maps every script to a check of its outcome that fails when the attack
worked or the sandbox left its limits; every run is also held to the common limits (answer in
time, output caps, a consistent exit code or HTTP status, never a sandbox_error).

Where the scripts run:
  default             $STACKSYNC_BIN (build/stacksync) run [--mode $STACKSYNC_MODE] FILE
  STACKSYNC_URL=...   POST $STACKSYNC_URL/execute {"script": ...}  (200 success, 400 script error)
Host-side checks (canary listeners on the loopback, leftover processes, mounts, cgroups, script
files) assume the sandboxes run on this machine; STACKSYNC_HOST_CHECKS=0 turns them off, e.g. for
a service in a remote container. STACKSYNC_ATTACK_PARALLELISM (default 2) sets how many scripts
run at once.

    /usr/bin/python3 -m pytest tests/attacks
    STACKSYNC_MODE=warm /usr/bin/python3 -m pytest tests/attacks
    STACKSYNC_URL=http://127.0.0.1:8080 /usr/bin/python3 -m pytest tests/attacks
"""
import concurrent.futures
import os
import signal
import subprocess

import pytest

from attack_client import (ANSWER_SECONDS, CANARY_ENV_NAME, CANARY_ENV_VALUE, FILE_SIZE_LIMIT, HOST_CHECKS,
                           LIMITS, LOAD_SLACK_SECONDS, MEMORY_LIMIT_MIB, OPEN_FILES_LIMIT, OUTPUT_CAP,
                           PARALLELISM, PIDS_LIMIT, PROMPT_SECONDS, SANDBOX_UID, SCRIPTS_DIR, TMPFS_MIB, URL,
                           WALL_SECONDS, check_common, measure_startup, run_script)
from attack_host import Canaries, HostState, assert_no_leftover_processes

# ---------------------------------------------------------------------------------------------
# Helpers for the expectations

# How a denied call fails: the seccomp filter's EPERM, the kernel's EPERM/EACCES for a missing
# capability, or ENOSYS (e.g. clone3, which filters cannot inspect). SIGSYS is a seccomp kill.
DENIED_ERRNOS = {"EPERM", "EACCES", "ENOSYS"}


def observations(run):
    """main()'s returned dict of observations; the attack script must have run to the end."""
    assert run.ok, "the script did not return its observations: " + run.describe()
    assert isinstance(run.result, dict), "the result is not the script's dict: " + run.describe()
    return run.result


def assert_denied(probe, label, extra_errnos=()):
    """A probe made by a script's attempt_syscall(): it must have failed with a denial, or the
    child must have been killed by seccomp (SIGSYS)."""
    if probe.get("signal") == signal.SIGSYS:
        return
    if probe.get("succeeded") is False and probe.get("open_error"):
        return  # the handle the call needs could not even be opened
    assert probe.get("succeeded") is False, "%s: the call SUCCEEDED: %s" % (label, probe)
    assert probe.get("errno") in DENIED_ERRNOS | set(extra_errnos), (
        "%s: failed with %s, not a denial (EPERM/EACCES/ENOSYS or SIGSYS): the call reached the kernel: %s"
        % (label, probe.get("errno"), probe))


def assert_all_denied(run, extra_errnos=lambda label: ()):
    outcomes = observations(run)["outcomes"]
    assert outcomes, "no probes were made"
    for label, probe in outcomes.items():
        assert_denied(probe, "%s, %s" % (run.script, label), extra_errnos(label))


def signal_number(value):
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        name = value.upper()
        name = name if name.startswith("SIG") else "SIG" + name
        return int(getattr(signal.Signals, name, -1))
    return None


def failure_text(value):
    return isinstance(value, str) and value != "succeeded" and not value.startswith(("opened", "wrote", "read ", "created", "listed", "sent", "connected"))


ALLOWED_ENV_KEYS = {"PATH", "HOME", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "USER", "LOGNAME",
                    "PWD", "TERM", "SHLVL", "_"}
ALLOWED_ENV_PREFIXES = ("PYTHON", "LC_", "STACKSYNC_", "OPENBLAS_", "OMP_", "MKL_", "NUMEXPR_", "VECLIB_",
                        "GOTO_", "BLIS_", "MPL")


def assert_minimal_environment(environment, where):
    assert len(environment) <= 20, "%s: %d environment variables: %s" % (where, len(environment), sorted(environment))
    for key, value in environment.items():
        assert CANARY_ENV_VALUE not in value and key != CANARY_ENV_NAME, (
            "%s: the host's environment leaked in (%s)" % (where, key))
        assert key in ALLOWED_ENV_KEYS or key.startswith(ALLOWED_ENV_PREFIXES), (
            "%s: unexpected environment variable %s=%r" % (where, key, value[:80]))
        for host_path in ("/work", "/root", "/home", "/var/"):
            assert host_path not in value, "%s: %s=%r names a host path" % (where, key, value[:200])


# ---------------------------------------------------------------------------------------------
# The expectations: one per script. Each gets the Run and the Suite (for host-side facts).


def expect_tcp_loopback(run, suite):
    observed = observations(run)
    assert observed["connected"] == [], "reached loopback services: %s" % observed["connected"]
    assert suite.canaries.tcp_accepted == 0, "the host's canary TCP listener was reached"


def expect_public_ip(run, suite):
    observed = observations(run)
    assert observed["routed"] == [], "a route to the internet exists: %s" % observed["route_probes"]
    assert observed["connected"] == [], "connected to %s" % observed["connected"]
    assert observed["ipv4_routes"] == [], "routes: %s" % observed["ipv4_routes"]
    for host, outcome in observed["tcp"].items():
        no_network = ("unreachable", "Cannot assign requested address", "not permitted", "denied")
        assert any(text in outcome for text in no_network), (
            "TCP to %s failed for another reason than no route: %s" % (host, outcome))


def expect_dns(run, suite):
    observed = observations(run)
    assert observed["reachable_resolvers"] == [], "the host's resolver is reachable: %s" % observed
    assert observed["lookup_attempted"] and observed["resolved"] is None, "resolved a public name: %s" % observed


def expect_udp(run, suite):
    observed = observations(run)
    assert observed["off_loopback_routable"] == [], "UDP routes off the machine: %s" % observed["outcomes"]
    for target, outcome in observed["outcomes"].items():
        if not target.startswith("127."):
            assert failure_text(outcome), "UDP to %s: %s" % (target, outcome)
    assert suite.canaries.udp_received == 0, "the host's canary UDP socket received a datagram"


def expect_nothing_opened(run, suite):
    observed = observations(run)
    assert observed["opened"] == [], "opened: %s (%s)" % (observed["opened"], observed.get("attempts", ""))


def expect_interfaces(run, suite):
    observed = observations(run)
    assert set(observed["interfaces"]) <= {"lo"}, "network interfaces visible: %s" % observed["interfaces"]
    assert observed["tcp_listeners"] == [], "TCP listeners visible: %s" % observed["tcp_listeners"]
    assert not any("stacksync-attack-canary" in path for path in observed["unix_socket_paths"]), (
        "the host's abstract canary socket is listed: %s" % observed["unix_socket_paths"])


def expect_unix_sockets(run, suite):
    observed = observations(run)
    assert observed["connected"] == [], "connected to %s" % observed["connected"]
    assert suite.canaries.unix_accepted == 0, "the host's abstract canary socket was reached"


def expect_secret_files(run, suite):
    observed = observations(run)
    assert observed["read"] == {}, "read host secrets: %s" % observed["read"]
    assert len(observed["errors"]) > 0


def expect_host_directories(run, suite):
    observed = observations(run)
    assert observed["non_empty"] == {}, "host directories visible: %s" % observed["non_empty"]


def expect_checkout_search(run, suite):
    observed = observations(run)
    assert observed["found"] == [], "project or service files visible: %s" % observed["found"]


def expect_service_binary(run, suite):
    observed = observations(run)
    assert observed["exe_leaks"] == [], "the StackSync binary is readable through /proc/<pid>/exe of pids %s: %s" % (
        observed["exe_leaks"], {pid: observed["exes"][pid] for pid in observed["exe_leaks"]})
    assert observed["mapped_stacksync_files"] == [], "StackSync files mapped: %s" % observed["mapped_stacksync_files"]


def expect_proc_entries(run, suite):
    observed = observations(run)
    if HOST_CHECKS and not URL:
        with open("/proc/1/comm") as host_init:
            assert observed["pid1_comm"] != host_init.read().strip(), "pid 1 is the host's init: %s" % observed
    for point in observed["mount_points"]:
        assert not point.startswith(("/work", "/root", "/home", "/var", "/srv", "/mnt", "/media", "/boot")), (
            "a host directory is mounted at %s" % point)
    assert observed["kcore_readable"] is False and observed["kmsg_readable"] is False, observed


def expect_write_outside_tmp(run, suite):
    observed = observations(run)
    assert observed["outcomes"]["create /tmp (control)"] == "succeeded", (
        "the control write into /tmp failed, so the other failures prove nothing: %s" % observed["outcomes"])
    escaped = [k for k in observed["succeeded"] if k != "create /tmp (control)"]
    assert escaped == [], "wrote outside /tmp: %s" % escaped


def expect_chmod_chown(run, suite):
    observed = observations(run)
    assert observed["succeeded"] == [], "changed host files: %s" % observed["succeeded"]
    options = observed["mount_options"]
    assert options["/tmp"] and {"nosuid", "nodev"} <= set(options["/tmp"]), "/tmp mount options: %s" % options
    assert options["/"] and "ro" in options["/"], "/ is not read-only: %s" % options
    assert options["/usr"] is None or "ro" in options["/usr"], "/usr is not read-only: %s" % options


def expect_visible_processes(run, suite):
    observed = observations(run)
    processes = observed["processes"]
    assert len(processes) <= 4, "%d processes visible: %s" % (len(processes), processes)
    assert observed["self_pid"] <= 4, "not in a pid namespace of its own: pid %d" % observed["self_pid"]
    for pid, info in processes.items():
        for host_word in ("pytest", "process_api", "systemd", "sshd", "/sbin/init", "containerd", "dockerd"):
            assert host_word not in info["cmdline"], "host process visible: %s %s" % (pid, info)


def expect_no_host_command_line(run, suite):
    for pid, command in observations(run)["command_lines"].items():
        for host_trace in (str(SCRIPTS_DIR), "/work/", "/home/", "/root/", "stacksync run", "stacksync serve"):
            assert host_trace not in command, (
                "pid %s's command line shows the host's command (%r contains %r): the sandbox's init "
                "still carries the service's argv" % (pid, command, host_trace))


def expect_proc_environ(run, suite):
    observed = observations(run)
    for pid, environment in observed["environments"].items():
        assert_minimal_environment(environment, "/proc/%s/environ" % pid)


def expect_env_minimal(run, suite):
    environment = observations(run)["environ"]
    assert_minimal_environment(environment, "os.environ")
    assert environment.get("HOME") == "/tmp", "HOME is %r" % environment.get("HOME")
    assert "PATH" in environment


def expect_nothing_succeeded(run, suite):
    observed = observations(run)
    assert observed["succeeded"] == [], "succeeded: %s" % observed["succeeded"]


def expect_kernel_interfaces(run, suite):
    observed = observations(run)
    for name, outcome in observed["outcomes"].items():
        assert failure_text(outcome), "%s: %s" % (name, outcome)
    assert observed["kallsyms_nonzero_addresses"] == 0, "kernel addresses visible in /proc/kallsyms"


def expect_dev_listing(run, suite):
    observed = observations(run)
    devices = {"null": "char 1:3", "zero": "char 1:5", "random": "char 1:8", "urandom": "char 1:9"}
    links = {"fd", "stdin", "stdout", "stderr"}
    for name, kind in observed["entries"].items():
        if name in devices:
            assert kind == devices[name], "/dev/%s is %s" % (name, kind)
        else:
            assert name in links and kind.startswith("symlink"), "unexpected /dev entry %s (%s)" % (name, kind)
    assert observed["mem_exists"] is False and observed["kmsg_exists"] is False


def expect_mknod(run, suite):
    observed = observations(run)
    assert observed["created"] == [], "created device nodes: %s" % observed["outcomes"]


def expect_fork_bomb(run, suite):
    if run.ok:
        observed = run.result
        assert observed["forked_by_main"] < PIDS_LIMIT, "forked %d processes" % observed["forked_by_main"]
        assert observed["fork_failures"] > 0, "the pids limit never stopped a fork: %s" % observed
    else:
        assert run.type in ("timeout", "memory_limit", "exited"), run.describe()


def expect_thread_bomb(run, suite):
    if run.ok:
        assert run.result["started"] < PIDS_LIMIT and run.result["error"], run.describe()
    else:
        assert run.type == "memory_limit", run.describe()


def expect_memory_limit(run, suite):
    assert run.type == "memory_limit", "expected memory_limit: " + run.describe()


def expect_memory_children(run, suite):
    if run.ok:
        holders = run.result["children_holding_200mib"]
        assert holders <= 2, "%d children held 200 MiB at once (%d MiB > 512 MiB)" % (holders, 200 * holders)
    else:
        assert run.type == "memory_limit", run.describe()


def expect_disk_fill(run, suite):
    observed = observations(run)
    assert observed["stopped_by"] == "ENOSPC", "/tmp fill stopped by %s" % observed
    assert 1 <= observed["written_mib"] <= TMPFS_MIB, "wrote %d MiB into /tmp" % observed["written_mib"]
    assert observed["tmp_size_mib"] <= TMPFS_MIB, observed


def expect_huge_file(run, suite):
    observed = observations(run)
    for action, outcome in observed["outcomes"].items():
        assert outcome == "EFBIG", "%s: %s (expected EFBIG from RLIMIT_FSIZE)" % (action, outcome)
    for path, size in observed["sizes"].items():
        assert size is None or size <= FILE_SIZE_LIMIT, "%s is %d bytes" % (path, size)


def expect_fd_exhaustion(run, suite):
    observed = observations(run)
    assert observed["stopped_by"] == "EMFILE" and observed["opened"] <= OPEN_FILES_LIMIT, observed


def expect_rlimits(run, suite):
    observed = observations(run)
    assert observed["raised_hard_limit"] == [], "raised hard limits: %s" % observed["raised_hard_limit"]
    after, infinity = observed["after"], observed["infinity"]
    for name in ("RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE"):
        assert after[name][1] != infinity, "%s has no hard limit" % name
    assert after["RLIMIT_CORE"] == [0, 0], "core dumps allowed: %s" % after["RLIMIT_CORE"]
    assert after["RLIMIT_FSIZE"][1] <= FILE_SIZE_LIMIT, after
    assert after["RLIMIT_NOFILE"][1] <= OPEN_FILES_LIMIT, after


def expect_timeout(run, suite):
    assert run.type == "timeout", "expected timeout: " + run.describe()
    assert run.elapsed >= WALL_SECONDS - 0.5, "timed out early: " + run.describe()


def expect_all_denied(run, suite):
    assert_all_denied(run)


def expect_process_vm(run, suite):
    observed = observations(run)
    assert_denied(observed["readv"], "process_vm_readv")
    assert_denied(observed["writev"], "process_vm_writev")
    assert observed["parent_secret_after"] == "stacksync-parent-secret", observed


def expect_pidfd(run, suite):
    observed = observations(run)
    probe = observed["pidfd_getfd"]
    if "pidfd_open" in probe and not probe["pidfd_open"]["succeeded"]:
        probe = probe["pidfd_open"]
    assert_denied(probe, "pidfd_getfd")
    assert_denied(observed["kcmp"], "kcmp")


def expect_unshare(run, suite):
    # ENOSPC: a user namespace limit of 0 inside the sandbox is a kernel-enforced denial too.
    assert_all_denied(run, lambda label: ("ENOSPC",) if "NEWUSER" in label else ())


def expect_mount(run, suite):
    assert_all_denied(run)
    assert observations(run)["mounted_on_target"] == []


def expect_setns(run, suite):
    observed = observations(run)
    # EINVAL: the kernel refuses to re-enter the caller's own user namespace.
    assert_all_denied(run, lambda label: ("EINVAL",) if label.endswith(" user") else ())
    for name in ("user", "pid", "mnt", "net", "ipc", "uts", "cgroup"):
        host_ns = os.readlink("/proc/self/ns/" + name)
        assert observed["namespaces"].get(name) not in (None, host_ns), (
            "the sandbox shares the runner's %s namespace (%s)" % (name, host_ns))


def expect_tiocsti(run, suite):
    assert_all_denied(run)
    assert failure_text(observations(run)["dev_tty"]), "opened /dev/tty"


def expect_kill(run, suite):
    observed = observations(run)
    assert observed["permission_denied_pids"] == [], "foreign processes visible: %s" % observed["permission_denied_pids"]
    assert len(observed["reachable_pids"]) <= 4, "reachable pids: %s" % observed["reachable_pids"]
    victim = suite.victim
    if victim is not None:
        assert victim.poll() is None, "the host process of the sandbox's uid was killed (status %s)" % victim.returncode


def expect_identity(run, suite):
    observed = observations(run)
    status = observed["status"]
    assert observed["uid"] == observed["euid"] == SANDBOX_UID and observed["gid"] == SANDBOX_UID, observed
    for capability_set in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(status[capability_set], 16) == 0, "%s = %s" % (capability_set, status[capability_set])
    assert status["NoNewPrivs"] == "1" and observed["no_new_privs"] == 1, status
    assert status["Seccomp"] == "2", "seccomp mode %s" % status["Seccomp"]
    assert all(v != "succeeded" for v in observed["outcomes"].values()), observed["outcomes"]
    for label, probe in observed["probes"].items():
        assert probe.get("succeeded") is False, "%s succeeded: %s" % (label, probe)


def expect_forged_stdout(run, suite):
    assert run.ok and run.result == {"genuine": True}, "the result is not main()'s: " + run.describe()
    assert '{"result": "forged", "stdout": "", "stderr": ""}' in run.stdout, "forgery missing from stdout"
    assert '{"ok": true, "result": "forged"}' in run.stdout
    assert "HTTP/1.1 200 OK" in run.stdout, "the fake HTTP response was not returned as text"
    assert "forged" in run.stderr


def expect_genuine_or_invalid(run, suite):
    if run.ok:
        assert isinstance(run.result, dict) and run.result.get("genuine") is True, (
            "the result is not main()'s: " + run.describe())
    else:
        assert run.type == "invalid_result", "expected main()'s result or invalid_result: " + run.describe()


def expect_channel_rejected(run, suite):
    assert not run.ok, "a frame written by the script straight to the channel was accepted: " + run.describe()
    assert run.type in ("invalid_result", "result_too_large", "exited", "timeout"), run.describe()
    assert run.body_bytes < 4 * OUTPUT_CAP, "a %d-byte answer" % run.body_bytes


def expect_os_exit(run, suite):
    assert run.type == "exited" and run.outcome.get("exit_code") == 0, "expected exited/0: " + run.describe()
    assert "printed before os._exit" in run.stdout


def expect_sys_exit(run, suite):
    assert run.type == "exited" and run.outcome.get("exit_code") == 3, "expected exited/3: " + run.describe()
    assert "printed before sys.exit" in run.stdout


def expect_killed_by(number):
    def check(run, suite):
        assert run.type == "exited", "expected exited by signal %d: %s" % (number, run.describe())
        assert signal_number(run.outcome.get("signal")) == number, "expected signal %d: %s" % (number, run.describe())
        assert "about to" in run.stdout, "the output before the signal was lost"
    return check


def expect_stopped_timeout(run, suite):
    expect_timeout(run, suite)
    assert "about to SIGSTOP myself" in run.stdout, "the output before the stop was lost: " + run.describe()


def expect_output_flood(stream):
    def check(run, suite):
        text = run.outcome.get(stream, "")
        assert 0 < len(text) <= OUTPUT_CAP, "%s holds %d chars" % (stream, len(text))
        if run.ok:
            assert run.result == {"wrote_mib": 50}, run.describe()
            assert run.outcome.get(stream + "_truncated") is True, "50 MiB without a truncated flag"
        else:
            assert run.type == "output_limit", run.describe()
    return check


def expect_binary_output(run, suite):
    assert run.ok and run.result == {"ok": True}, run.describe()
    for piece in ("valid start", "invalid", "end\n", "\ufffd", "unicode ok: \u00e9\u4e2d\U0001F600"):
        assert piece in run.stdout, "%r missing from stdout %r" % (piece, run.stdout)
    assert "stderr:" in run.stderr and "done" in run.stderr and "\ufffd" in run.stderr, run.stderr


def expect_nesting_error(run, suite):
    assert run.type in ("not_serializable", "invalid_result", "result_too_large"), run.describe()
    message = run.outcome["error"].lower()
    assert any(word in message for word in ("nest", "deep", "depth")), "unclear message: %s" % run.outcome["error"]


def expect_result_too_large(run, suite):
    assert run.type == "result_too_large", run.describe()
    assert run.body_bytes < 2 * OUTPUT_CAP + 65536, "the answer is %d bytes" % run.body_bytes


def expect_python_recursion(run, suite):
    if run.ok:
        assert run.result["recursion_error"], run.describe()
    else:
        assert run.type in ("memory_limit", "runtime_error", "exited"), run.describe()


def expect_c_stack(run, suite):
    if run.type == "exited":
        assert signal_number(run.outcome.get("signal")) in (signal.SIGSEGV, signal.SIGBUS), run.describe()
    elif not run.ok:
        assert run.type in ("runtime_error", "memory_limit"), run.describe()


def expect_prompt_end(marker):
    def check(run, suite):
        assert run.ok, "main() returned, but the run did not succeed: " + run.describe()
        assert run.elapsed <= LIMITS["prompt_seconds"], (
            "the run lasted %.2f s (limit %.2f s) though main() returns at once" % (run.elapsed, LIMITS["prompt_seconds"]))
        assert marker not in run.stdout, "the lingering %s printed: %r" % (marker, run.stdout[-300:])
    return check


def expect_fds(run, suite):
    fds = observations(run)["fds"]
    assert len(fds) <= 8, "%d open fds: %s" % (len(fds), fds)
    allowed = ("pipe:", "/dev/null", "anon_inode:", "/tmp/", "/proc/", "memfd:", "/dev/urandom", "socket:")
    for fd, info in fds.items():
        link = info["link"] or ""
        assert link.startswith(allowed), "fd %s points at %s" % (fd, link)
        if "family" in info:
            assert info["family"] == "AF_UNIX", "fd %s is a %s socket" % (fd, info["family"])
            assert not info["listening"], "fd %s is a listening socket" % fd


def expect_abi_bypass(run, suite):
    # SIGSEGV: a kernel without the i386 entry faults on int 0x80 — that path does not exist.
    for label, probe in observations(run)["outcomes"].items():
        if label.startswith("int 0x80") and probe.get("signal") == signal.SIGSEGV:
            continue
        assert_denied(probe, "%s, %s" % (run.script, label))


def expect_kernel_buffers(run, suite):
    if run.ok:
        parked = run.result["parked_mib"]
        assert parked <= MEMORY_LIMIT_MIB, "%.0f MiB parked in kernel buffers past the memory limit" % parked
    else:
        assert run.type == "memory_limit", run.describe()


def expect_result_despite_fd_exhaustion(run, suite):
    assert run.ok, "main() returned, but its result was lost: " + run.describe()
    assert 0 < run.result["held_fds"] <= OPEN_FILES_LIMIT, run.describe()


def expect_no_writable_paths(run, suite):
    observed = observations(run)
    assert observed["writable"] == [], "writable outside /tmp: %s (writable mounts %s)" % (
        observed["writable"], observed["writable_mounts"])
    assert observed["finished"], "the walk of the writable mounts did not finish: %s" % observed


EXPECTATIONS = {
    # network
    "net_tcp_loopback": expect_tcp_loopback,
    "net_public_ip": expect_public_ip,
    "net_dns_lookup": expect_dns,
    "net_udp_send": expect_udp,
    "net_raw_packet_sockets": expect_nothing_opened,
    "net_netlink_sockets": expect_nothing_opened,
    "net_exotic_socket_families": expect_nothing_opened,
    "net_interfaces": expect_interfaces,
    "net_unix_sockets": expect_unix_sockets,
    # host files
    "host_secret_files": expect_secret_files,
    "host_directories": expect_host_directories,
    "host_checkout_search": expect_checkout_search,
    "host_service_binary": expect_service_binary,
    "host_proc_entries": expect_proc_entries,
    "write_outside_tmp": expect_write_outside_tmp,
    "chmod_chown_files": expect_chmod_chown,
    "fd_inherited": expect_fds,
    "writable_paths_scan": expect_no_writable_paths,
    # /proc, /sys, environment
    "proc_visible_processes": expect_visible_processes,
    "proc_host_command_line": expect_no_host_command_line,
    "proc_environ_other": expect_proc_environ,
    "env_minimal": expect_env_minimal,
    "proc_sys_writes": expect_nothing_succeeded,
    "proc_sysrq_kernel_interfaces": expect_kernel_interfaces,
    "sys_and_cgroup_writes": expect_nothing_succeeded,
    "proc_pid_mem_access": expect_nothing_succeeded,
    # devices
    "dev_listing": expect_dev_listing,
    "dev_mknod": expect_mknod,
    "dev_sensitive_nodes": expect_nothing_opened,
    # resources
    "fork_bomb": expect_fork_bomb,
    "thread_bomb": expect_thread_bomb,
    "memory_bomb_bytearray": expect_memory_limit,
    "memory_bomb_numpy": expect_memory_limit,
    "memory_bomb_children": expect_memory_children,
    "memory_bomb_kernel_buffers": expect_kernel_buffers,
    "disk_fill_tmp": expect_disk_fill,
    "huge_sparse_file": expect_huge_file,
    "fd_exhaustion": expect_fd_exhaustion,
    "fd_exhaustion_at_return": expect_result_despite_fd_exhaustion,
    "scheduler_priority": expect_nothing_succeeded,
    "rlimits_raise": expect_rlimits,
    "cpu_spin_ignoring_signals": expect_timeout,
    "deep_recursion_python": expect_python_recursion,
    "deep_recursion_c_stack": expect_c_stack,
    # kernel interfaces through ctypes
    "ptrace_attach": expect_all_denied,
    "process_vm_access": expect_process_vm,
    "pidfd_steal_fd": expect_pidfd,
    "ns_unshare_clone": expect_unshare,
    "ns_setns": expect_setns,
    "mount_syscalls": expect_mount,
    "keyctl_keys": expect_all_denied,
    "bpf_load": expect_all_denied,
    "perf_event_open": expect_all_denied,
    "io_uring": expect_all_denied,
    "userfaultfd": expect_all_denied,
    "tiocsti_ioctl": expect_tiocsti,
    "caps_identity": expect_identity,
    "hostname_change": expect_all_denied,
    "personality_change": expect_all_denied,
    "clock_change": expect_all_denied,
    "reboot_call": expect_all_denied,
    "kernel_modules": expect_all_denied,
    "kexec_load": expect_all_denied,
    "privileged_misc": expect_all_denied,
    "seccomp_abi_bypass": expect_abi_bypass,
    "shocker_open_by_handle": lambda run, suite: assert_denied(observations(run)["open_by_handle_at"], "open_by_handle_at"),
    # results, output and exits
    "result_forge_stdout": expect_forged_stdout,
    "result_forge_fds": expect_genuine_or_invalid,
    "harness_tamper_malformed_frame": expect_genuine_or_invalid,
    "harness_tamper_fake_sandbox_error": expect_genuine_or_invalid,
    "result_channel_deep_nesting": expect_channel_rejected,
    "result_channel_flood": expect_channel_rejected,
    "exit_os_exit": expect_os_exit,
    "exit_sys_exit": expect_sys_exit,
    "signal_sigkill_self": expect_killed_by(signal.SIGKILL),
    "signal_sigsegv": expect_killed_by(signal.SIGSEGV),
    "signal_sigstop_self": expect_stopped_timeout,
    "output_flood_stdout": expect_output_flood("stdout"),
    "output_flood_stderr": expect_output_flood("stderr"),
    "output_binary_bytes": expect_binary_output,
    "result_nesting_10k": expect_nesting_error,
    "result_huge": expect_result_too_large,
    # run alone (see EXCLUSIVE): processes and threads that try to outlive main, other processes
    "kill_other_processes": expect_kill,
    "outlive_forked_child": expect_prompt_end("forked child still running"),
    "outlive_daemon_thread": expect_prompt_end("daemon thread still running"),
    "outlive_nondaemon_thread": expect_prompt_end("non-daemon thread still running"),
    "outlive_stopped_child": expect_prompt_end("stopped child"),
    "cross_run_visibility": None,  # test_cross_run_visibility runs it three times
}

# Run one at a time after the parallel batch: the host's process table must be quiet for the
# leftover checks, and kill_other_processes needs its victim alone.
EXCLUSIVE = ["kill_other_processes", "outlive_forked_child", "outlive_daemon_thread", "outlive_nondaemon_thread",
             "outlive_stopped_child"]
PARALLEL = sorted(name for name in EXPECTATIONS if name not in EXCLUSIVE and name != "cross_run_visibility")


# ---------------------------------------------------------------------------------------------
# The suite: parallel runs started up front, host observers, and the tests


class Suite:
    def __init__(self, selected):
        self.host = HostState() if HOST_CHECKS else None
        self.canaries = Canaries() if HOST_CHECKS else _NoCanaries()
        self.victim = None
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=PARALLELISM)
        self._futures = {name: self._pool.submit(run_script, name) for name in selected}

    def parallel_run(self, name):
        return self._futures[name].result()

    def drain(self):
        for future in self._futures.values():
            try:
                future.result()
            except AssertionError:
                pass  # reported by the script's own test

    def can_see_sandboxes(self):
        """Host checks need the host, and over HTTP the service's own process to attribute to."""
        return self.host is not None and (not URL or self.host.server_pid is not None)

    def learn_sandbox_uid(self):
        """The host uid behind the sandbox's 65534, from caps_identity's uid_map when it ran."""
        future = self._futures.get("caps_identity")
        if self.host is None or future is None:
            return
        try:
            uid_map = future.result().result["uid_map"]
            self.host.sandbox_uids.add(int(uid_map.split()[1]))
        except (AssertionError, KeyError, IndexError, TypeError, ValueError, AttributeError):
            pass

    def close(self):
        self._pool.shutdown(wait=True)
        self.canaries.close()
        if self.victim is not None and self.victim.poll() is None:
            self.victim.kill()
            self.victim.wait()


class _NoCanaries:
    tcp_accepted = udp_received = unix_accepted = 0
    unavailable = ["host checks disabled"]

    def close(self):
        pass


@pytest.fixture(scope="session")
def suite(request, tmp_path_factory):
    startup = measure_startup(tmp_path_factory.mktemp("startup"))
    LIMITS["answer_seconds"] = ANSWER_SECONDS + startup + LOAD_SLACK_SECONDS
    LIMITS["prompt_seconds"] = PROMPT_SECONDS + startup
    selected = [item.callspec.params["name"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_attack" and hasattr(item, "callspec")]
    instance = Suite(selected)
    yield instance
    instance.close()


def test_script_inventory():
    """Every script has an expectation and every expectation a script: none silently skipped."""
    scripts = sorted(path.stem for path in SCRIPTS_DIR.glob("*.py"))
    assert scripts == sorted(EXPECTATIONS), "scripts without expectations: %s; expectations without scripts: %s" % (
        sorted(set(scripts) - set(EXPECTATIONS)), sorted(set(EXPECTATIONS) - set(scripts)))
    assert len(scripts) >= 35
    for path in SCRIPTS_DIR.glob("*.py"):
        source = path.read_text()
        assert "\ndef main():" in source and source.startswith('"""'), "%s: no main() or no docstring" % path.name


@pytest.mark.parametrize("name", PARALLEL)
def test_attack(name, suite):
    run = suite.parallel_run(name)
    EXPECTATIONS[name](run, suite)
    check_common(run)


@pytest.mark.parametrize("name", EXCLUSIVE)
def test_attack_alone(name, suite):
    suite.drain()
    suite.learn_sandbox_uid()
    if name == "kill_other_processes" and suite.host is not None and os.geteuid() == 0:
        # A process of the sandbox's host uid: a sandbox sharing the host's pid namespace could
        # kill it with kill(-1, SIGKILL).
        uid = max(suite.host.sandbox_uids)
        suite.victim = subprocess.Popen(["sleep", "60"], user=uid, group=uid)
        suite.host.ignored_pids.add(suite.victim.pid)
    try:
        run = run_script(name)
        EXPECTATIONS[name](run, suite)
        check_common(run)
    finally:
        if suite.victim is not None:
            suite.victim.kill()
            suite.victim.wait()
            suite.victim = None
    if suite.can_see_sandboxes():
        assert_no_leftover_processes(suite.host)


def test_cross_run_visibility(suite):
    """Two runs at once and one after: none sees another's files, markers or sockets, nor the
    files the outlive_* scripts' lingering children and threads tried to leave."""
    suite.drain()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        concurrent_runs = list(pool.map(run_script, ["cross_run_visibility"] * 2))
    later = run_script("cross_run_visibility")
    tokens = set()
    for run in concurrent_runs + [later]:
        observed = observations(run)
        assert observed["traces_before"] == [] and observed["traces_after"] == [], (
            "saw another run's files: %s" % observed)
        assert observed["met_other_run"] == [], "met another run: %s" % observed["met_other_run"]
        assert "/tmp" in observed["wrote_markers_in"], observed
        tokens.add(observed["token"])
        check_common(run)
    assert len(tokens) == 3, "the runs drew the same random token: %s" % tokens


def test_host_left_clean(suite):
    """After the whole suite: no process of a sandbox alive, no stacksync mount or cgroup left on
    the host, none of the scripts' /tmp files on the host's, nothing ever reached the canaries."""
    if not suite.can_see_sandboxes():
        pytest.skip("STACKSYNC_HOST_CHECKS=0, or the service's process is not visible from here")
    suite.drain()
    suite.learn_sandbox_uid()
    assert_no_leftover_processes(suite.host)
    assert suite.host.new_mounts() == [], "stacksync mounts on the host: %s" % suite.host.new_mounts()
    assert suite.host.leftover_cgroups() == [], "cgroups left behind: %s" % suite.host.leftover_cgroups()
    assert suite.host.new_script_traces() == [], (
        "files the scripts wrote in their /tmp appeared on the host: %s" % suite.host.new_script_traces())
    canaries = suite.canaries
    assert (canaries.tcp_accepted, canaries.udp_received, canaries.unix_accepted) == (0, 0, 0), (
        "a sandbox reached the host's loopback canaries")
