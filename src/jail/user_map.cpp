#include "jail/user_map.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace stacksync::jail {
namespace {

Status write_proc_file(pid_t pid, const char* name, const std::string& text) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("uid_map: open " + path, errno);
  ssize_t n = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) return errno_error("uid_map: write " + path, err);
  return {};
}

}  // namespace

Status write_identity_map(pid_t child, const IdentityMap& map) {
  if (auto s = write_proc_file(
          child, "uid_map",
          std::to_string(map.sandbox_uid) + " " + std::to_string(map.host_uid) + " 1\n");
      !s)
    return s;
  return write_proc_file(
      child, "gid_map",
      std::to_string(map.sandbox_gid) + " " + std::to_string(map.host_gid) + " 1\n");
}

ChildStep become_sandbox_user(unsigned uid, unsigned gid) {
  // Raw syscalls: glibc's wrappers broadcast the change to every thread it knows of, and in a
  // child cloned from a multi-threaded parent those threads do not exist — it would wait forever.
  if (::syscall(SYS_setgroups, 0, nullptr) != 0) return child_error("user_namespace", "setgroups");
  if (::syscall(SYS_setresgid, gid, gid, gid) != 0)
    return child_error("user_namespace", "setresgid");
  if (::syscall(SYS_setresuid, uid, uid, uid) != 0)
    return child_error("user_namespace", "setresuid");
  return {};
}

}  // namespace stacksync::jail
