#include "jail/seccomp.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "base/unique_fd.h"

namespace stacksync::jail {
namespace {

// Syscalls untrusted code never needs and that widen the kernel's attack surface or reach
// outside the sandbox.
constexpr const char* kDenied[] = {
    // debugging and other processes' memory
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
    // filesystems and namespaces
    "mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "unshare", "setns", "name_to_handle_at",
    "open_by_handle_at", "quotactl", "quotactl_fd",
    // kernel keyrings, BPF, perf, userfaultfd, io_uring
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "fanotify_init", "lookup_dcookie",
    // the machine itself
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "create_module", "get_kernel_syms", "query_module", "reboot", "swapon", "swapoff", "acct",
    "iopl", "ioperm", "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "stime", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl", "vm86", "vm86old", "vhangup",
    "move_pages", "mbind", "set_mempolicy", "migrate_pages", "sethostname", "setdomainname",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "seccomp",
    "memfd_secret"};

constexpr scmp_datum_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                         CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP |
                                         0x00000080 /* CLONE_NEWTIME */;

struct ContextDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

Status add_rule(scmp_filter_ctx ctx, uint32_t action, const char* name, unsigned count = 0,
                const scmp_arg_cmp* args = nullptr) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return {};  // unknown on this architecture: nothing to deny
  int rc = seccomp_rule_add_array(ctx, action, nr, count, args);
  if (rc != 0) return errno_error(std::string("seccomp: rule for ") + name, -rc);
  return {};
}

}  // namespace

Result<SeccompFilter> build_seccomp_filter() {
  std::unique_ptr<void, ContextDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return Error{"seccomp: seccomp_init failed"};
  // Foreign architectures (32-bit syscalls on x86-64) are killed outright.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);

  const uint32_t deny = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDenied)
    if (auto s = add_rule(ctx.get(), deny, name); !s) return s.error();

  // clone with any namespace flag: denied. clone3 hides its flags behind a pointer.
  for (scmp_datum_t flag = 1; flag != 0; flag <<= 1) {
    if ((flag & kNamespaceFlags) == 0) continue;
    const scmp_arg_cmp has_flag = SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag);
    if (auto s = add_rule(ctx.get(), deny, "clone", 1, &has_flag); !s) return s.error();
  }
  if (auto s = add_rule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), "clone3"); !s) return s.error();

  // Sockets: only the families that are harmless in an empty network namespace.
  for (int family = 0; family < AF_MAX; ++family) {
    if (family == AF_UNIX || family == AF_INET || family == AF_INET6) continue;
    // The kernel reads the family as an int: compare the low 32 bits only, or a family with
    // junk in the upper bits would slip past an exact comparison.
    const scmp_arg_cmp is_family =
        SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, static_cast<scmp_datum_t>(family));
    if (auto s = add_rule(ctx.get(), deny, "socket", 1, &is_family); !s) return s.error();
  }
  // Terminal injection and console ioctls.
  for (scmp_datum_t request : {scmp_datum_t(TIOCSTI), scmp_datum_t(TIOCLINUX)}) {
    const scmp_arg_cmp is_request = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, request);
    if (auto s = add_rule(ctx.get(), deny, "ioctl", 1, &is_request); !s) return s.error();
  }
  // personality: only the default Linux persona (ASLR stays on).
  {
    // The persona is an unsigned int: any value whose low 32 bits are not PER_LINUX is denied.
    for (scmp_datum_t bit = 1; bit <= 0x80000000u; bit <<= 1) {
      const scmp_arg_cmp has_bit = SCMP_A0(SCMP_CMP_MASKED_EQ, bit, bit);
      if (auto s = add_rule(ctx.get(), deny, "personality", 1, &has_bit); !s) return s.error();
    }
  }

  UniqueFd memfd(::memfd_create("seccomp-bpf", MFD_CLOEXEC));
  if (!memfd) return errno_error("seccomp: memfd_create", errno);
  if (int rc = seccomp_export_bpf(ctx.get(), memfd.get()); rc != 0)
    return errno_error("seccomp: export", -rc);
  off_t size = ::lseek(memfd.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) return Error{"seccomp: bad exported size"};
  SeccompFilter filter;
  filter.program.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
  if (::pread(memfd.get(), filter.program.data(), static_cast<std::size_t>(size), 0) != size)
    return errno_error("seccomp: read back", errno);
  return filter;
}

ChildStep install_seccomp_filter(const SeccompFilter& filter) {
  sock_fprog program{static_cast<unsigned short>(filter.program.size()),
                     const_cast<sock_filter*>(filter.program.data())};
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0)
    return child_error("seccomp", "prctl(PR_SET_SECCOMP)");
  return {};
}

}  // namespace stacksync::jail
