// The seccomp filter, installed for real in a forked child and probed with raw syscalls.
// Each denied call is also made once without the filter (the control), so a test cannot pass
// merely because the call would have failed with EPERM anyway.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <thread>

#include "child_process.h"
#include "jail/seccomp.h"

namespace stacksync::jail {
namespace {

using stacksync::testing::ChildResult;
using stacksync::testing::run_in_child;

const SeccompFilter& filter() {
  static const SeccompFilter built = [] {
    auto result = build_seccomp_filter();
    if (!result) ADD_FAILURE() << result.error().message;
    return result ? *result : SeccompFilter{};
  }();
  return built;
}

// How one syscall ended in the child: 0 for success, the errno for a failure, or the signal
// that killed the child.
struct CallResult {
  bool killed = false;
  int signal = 0;
  int err = 0;  // 0: the call succeeded
  std::string text;
};

// Makes `call` in a forked child, after installing the filter if `filtered`. The call returns
// the raw syscall result (-1 with errno on failure).
CallResult call_in_child(bool filtered, const std::function<long()>& call) {
  ChildResult child = run_in_child([&](int) -> int {
    if (filtered) {
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 250;
      if (install_seccomp_filter(filter()).failed()) return 251;
    }
    errno = 0;
    const long rc = call();
    if (rc >= 0) return 0;
    return errno > 0 && errno < 250 ? errno : 252;
  });
  CallResult result;
  result.killed = !child.exited;
  result.signal = child.signal;
  result.err = child.exited ? child.exit_code : -1;
  result.text = child.describe();
  return result;
}

// Asserts that the filter turns `call` into `expected_errno`, and that without the filter the
// same call does something else.
void expect_denied(const char* what, const std::function<long()>& call,
                   int expected_errno = EPERM) {
  CallResult control = call_in_child(false, call);
  ASSERT_FALSE(control.killed) << what << " control: " << control.text;
  ASSERT_NE(control.err, 250);
  ASSERT_NE(control.err, expected_errno)
      << what << ": fails with the expected errno even without the filter; the test proves "
      << "nothing";
  CallResult filtered = call_in_child(true, call);
  ASSERT_NE(filtered.err, 250) << "no_new_privs failed";
  ASSERT_NE(filtered.err, 251) << "install_seccomp_filter failed";
  EXPECT_EQ(filtered.err, expected_errno)
      << what << " under the filter: " << filtered.text << " (" << ::strerror(filtered.err)
      << "); without it: " << ::strerror(control.err);
}

void expect_allowed(const char* what, const std::function<long()>& call) {
  CallResult filtered = call_in_child(true, call);
  EXPECT_FALSE(filtered.killed) << what << ": " << filtered.text;
  EXPECT_EQ(filtered.err, 0) << what << " under the filter: " << filtered.text << " ("
                             << ::strerror(filtered.err) << ")";
}

// clone()/clone3() return 0 in the new process: it must leave at once, not run the test.
long leave_if_child(long rc) {
  if (rc == 0) ::_exit(0);
  return rc;
}

TEST(Seccomp, FilterBuildsAndIsNotEmpty) {
  auto built = build_seccomp_filter();
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_GT(built->program.size(), 20u);
  EXPECT_LT(built->program.size(), 4096u);  // BPF_MAXINSNS
}

TEST(Seccomp, InstallWithoutNoNewPrivsOrCapabilityFails) {
  // Without no_new_privs and without CAP_SYS_ADMIN the kernel refuses the filter: the step must
  // report that, not pretend. (The child drops CAP_SYS_ADMIN from its effective set first.)
  ChildResult child = run_in_child([](int) -> int {
    if (::setresuid(65534, 65534, 65534) != 0) return 2;  // loses every capability
    ChildStep step = install_seccomp_filter(filter());
    if (!step.failed()) return 3;
    return std::string_view(step.layer) == "seccomp" && step.err == EACCES ? 0 : 4;
  });
  EXPECT_TRUE(child.exited_with(0)) << child.describe();
}

TEST(Seccomp, PtraceIsDenied) {
  expect_denied("ptrace(PTRACE_PEEKDATA, parent)",
                [] { return ::syscall(SYS_ptrace, PTRACE_PEEKDATA, ::getppid(), 0, 0); });
  expect_denied("ptrace(PTRACE_TRACEME)",
                [] { return ::syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0); });
}

TEST(Seccomp, MountIsDenied) {
  expect_denied("mount", [] {
    return ::syscall(SYS_mount, "/nonexistent-stacksync-a", "/nonexistent-stacksync-b", nullptr,
                     MS_BIND, nullptr);
  });
  expect_denied("umount2", [] { return ::syscall(SYS_umount2, "/nonexistent-stacksync", 0); });
}

TEST(Seccomp, UnshareOfAUserNamespaceIsDenied) {
  expect_denied("unshare(CLONE_NEWUSER)", [] { return ::syscall(SYS_unshare, CLONE_NEWUSER); });
}

TEST(Seccomp, SetnsIsDenied) {
  expect_denied("setns(-1)", [] { return ::syscall(SYS_setns, -1, 0); });
}

TEST(Seccomp, KeyctlIsDenied) {
  // KEYCTL_GET_KEYRING_ID of the session keyring.
  expect_denied("keyctl", [] { return ::syscall(SYS_keyctl, 0, -3, 0); });
  expect_denied("add_key", [] {
    // An unknown key type: ENODEV without the filter, and nothing is added to any keyring.
    return ::syscall(SYS_add_key, "stacksync-no-such-type", "k", "x", 1, -3 /* session */);
  });
}

TEST(Seccomp, BpfIsDenied) {
  expect_denied("bpf(BPF_MAP_CREATE, NULL)", [] { return ::syscall(SYS_bpf, 0, nullptr, 0); });
}

TEST(Seccomp, PerfEventOpenIsDenied) {
  expect_denied("perf_event_open(NULL)",
                [] { return ::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0); });
}

TEST(Seccomp, UserfaultfdIsDenied) {
  expect_denied("userfaultfd", [] { return ::syscall(SYS_userfaultfd, O_CLOEXEC); });
}

TEST(Seccomp, IoUringIsDenied) {
  expect_denied("io_uring_setup(1, NULL)",
                [] { return ::syscall(SYS_io_uring_setup, 1, nullptr); });
}

TEST(Seccomp, NetlinkAndPacketSocketsAreDenied) {
  expect_denied("socket(AF_NETLINK)",
                [] { return ::syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */); });
  expect_denied("socket(AF_PACKET)", [] { return ::syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0); });
}

TEST(Seccomp, SocketFamilyCannotHideInTheUpperBits) {
  // The kernel reads socket()'s family as a 32-bit int; a 64-bit comparison in the filter
  // would let (1 << 32) | AF_NETLINK through as "not AF_NETLINK".
  expect_denied("socket((1<<32)|AF_NETLINK)",
                [] { return ::syscall(SYS_socket, (1UL << 32) | AF_NETLINK, SOCK_RAW, 0); });
  expect_denied("socket((1<<32)|AF_PACKET)",
                [] { return ::syscall(SYS_socket, (1UL << 32) | AF_PACKET, SOCK_DGRAM, 0); });
}

TEST(Seccomp, EverySocketFamilyButUnixAndInetIsDenied) {
  // One child tries every family and names the first one that was not denied.
  ChildResult child = run_in_child([](int report) -> int {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 2;
    if (install_seccomp_filter(filter()).failed()) return 3;
    for (int family = 0; family < AF_MAX; ++family) {
      if (family == AF_UNIX || family == AF_INET || family == AF_INET6) continue;
      for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW}) {
        errno = 0;
        if (::syscall(SYS_socket, family, type, 0) >= 0 || errno != EPERM) {
          char text[64];
          const int n =
              std::snprintf(text, sizeof(text), "family %d type %d errno %d", family, type, errno);
          stacksync::testing::write_report(report, std::string_view(text, n));
          return 1;
        }
      }
    }
    return 0;
  });
  EXPECT_TRUE(child.exited_with(0)) << child.describe();
}

TEST(Seccomp, TiocstiIsDenied) {
  auto inject = [](unsigned long request) {
    return [request] {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      char c = 'x';
      return ::syscall(SYS_ioctl, fd, request, &c);
    };
  };
  expect_denied("ioctl(TIOCSTI)", inject(TIOCSTI));
  // ioctl's request is 32 bits in the kernel: upper bits must not smuggle it past the filter.
  expect_denied("ioctl((1<<32)|TIOCSTI)", inject((1UL << 32) | TIOCSTI));
  expect_denied("ioctl(TIOCLINUX)", inject(TIOCLINUX));
}

TEST(Seccomp, PersonalityOtherThanLinuxIsDenied) {
  expect_denied("personality(ADDR_NO_RANDOMIZE)",
                [] { return ::syscall(SYS_personality, 0x0040000); });
  expect_denied("personality(READ_IMPLIES_EXEC)",
                [] { return ::syscall(SYS_personality, 0x0400000); });
  // The persona is 32 bits to the kernel: junk above must not hide ADDR_NO_RANDOMIZE.
  expect_denied("personality((1<<32)|ADDR_NO_RANDOMIZE)",
                [] { return ::syscall(SYS_personality, (1UL << 32) | 0x0040000); });
  expect_allowed("personality(PER_LINUX)", [] { return ::syscall(SYS_personality, 0); });
}

TEST(Seccomp, CloneWithANamespaceFlagIsDenied) {
  for (unsigned long flag : {CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS,
                             CLONE_NEWIPC, CLONE_NEWCGROUP}) {
    SCOPED_TRACE(flag);
    expect_denied("clone(namespace flag)", [flag] {
      return leave_if_child(::syscall(SYS_clone, flag | SIGCHLD, 0, 0, 0, 0));
    });
  }
}

TEST(Seccomp, Clone3ReturnsEnosysSoLibcFallsBackToClone) {
  expect_denied(
      "clone3",
      [] {
        clone_args args{};
        args.exit_signal = SIGCHLD;
        return leave_if_child(::syscall(SYS_clone3, &args, sizeof(args)));
      },
      ENOSYS);
}

TEST(Seccomp, Clone3CannotCarryNamespaceFlagsPastTheFilter) {
  expect_denied(
      "clone3(CLONE_NEWUSER)",
      [] {
        clone_args args{};
        args.flags = CLONE_NEWUSER;
        args.exit_signal = SIGCHLD;
        return leave_if_child(::syscall(SYS_clone3, &args, sizeof(args)));
      },
      ENOSYS);
}

TEST(Seccomp, SeccompSyscallIsDenied) {
  // An invalid operation: EINVAL without the filter, EPERM with it.
  expect_denied("seccomp(99)", [] { return ::syscall(SYS_seccomp, 99, 0, nullptr); });
}

TEST(Seccomp, X32SyscallsKillTheProcess) {
  // x32 syscall numbers share the x86-64 audit arch; a filter keyed on numbers alone would
  // miss them. libseccomp treats them as a foreign ABI: the process is killed.
  CallResult filtered = call_in_child(
      true, [] { return ::syscall(0x40000000 /* __X32_SYSCALL_BIT */ | SYS_getpid); });
  EXPECT_TRUE(filtered.killed && filtered.signal == SIGSYS) << filtered.text;
}

TEST(Seccomp, I386SyscallsKillTheProcess) {
  // int $0x80 enters the 32-bit syscall table, where the numbers mean different calls.
  CallResult filtered = call_in_child(true, [] {
    long rc;
    asm volatile("int $0x80"
                 : "=a"(rc)
                 : "a"(20L /* i386 getpid */)
                 : "memory", "r8", "r9", "r10", "r11");
    return rc;
  });
  EXPECT_TRUE(filtered.killed && filtered.signal == SIGSYS) << filtered.text;
}

// ---- what ordinary Python needs must keep working -------------------------------------------

TEST(Seccomp, OrdinaryCallsStillWork) {
  expect_allowed("getpid", [] { return ::syscall(SYS_getpid); });
  expect_allowed("socket(AF_INET, SOCK_STREAM)",
                 [] { return ::syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); });
  expect_allowed("socket(AF_INET6, SOCK_DGRAM)",
                 [] { return ::syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0); });
  expect_allowed("socket(AF_UNIX, SOCK_STREAM)",
                 [] { return ::syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); });
  expect_allowed("socketpair(AF_UNIX)", [] {
    int fds[2];
    return static_cast<long>(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds));
  });
  expect_allowed("ioctl(FIONREAD)", [] {
    int fds[2];
    if (::pipe(fds) != 0) return -1L;
    int available = 0;
    return ::syscall(SYS_ioctl, fds[0], FIONREAD, &available);
  });
  expect_allowed("prctl(PR_SET_NAME)",
                 [] { return static_cast<long>(::prctl(PR_SET_NAME, "worker", 0, 0, 0)); });
}

TEST(Seccomp, ForkStillWorks) {
  expect_allowed("fork via clone(SIGCHLD)", [] {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(7);
    if (pid < 0) return -1L;
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 7) {
      errno = ECHILD;
      return -1L;
    }
    return 0L;
  });
}

TEST(Seccomp, ThreadsStillStart) {
  // glibc tries clone3 first; its ENOSYS must make pthread_create fall back to clone.
  expect_allowed("std::thread", [] {
    std::atomic<int> ran{0};
    std::thread worker([&ran] { ran = 42; });
    worker.join();
    if (ran != 42) {
      errno = ESRCH;
      return -1L;
    }
    return 0L;
  });
}

}  // namespace
}  // namespace stacksync::jail
