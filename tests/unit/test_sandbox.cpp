// The whole jail, from the inside: real scripts run by the cold executor (make_executor) in a
// real sandbox with Debian's python, each reporting what it can see. Plus spawn_sandbox used
// directly, for failures that must name their layer.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/classify.h"
#include "engine/executor.h"
#include "engine/warm_executor.h"
#include "jail/mounts.h"
#include "jail/sandbox.h"
#include "jail/seccomp.h"

namespace stacksync {
namespace {

// Every check runs in both execution modes: cold (a fresh sandbox per script, built by
// spawn_sandbox) and warm (a child of the zygote, whose isolation the harness builds). One
// executor per mode for the whole suite: python starts per run anyway.
class SandboxFromInside : public ::testing::TestWithParam<engine::Mode> {
 protected:
  static void SetUpTestSuite() { ::setenv("STACKSYNC_TEST_SECRET", "must-not-leak", 1); }
  static void TearDownTestSuite() {
    for (auto& executor : executors_) executor.reset();
    ::unsetenv("STACKSYNC_TEST_SECRET");
  }
  void SetUp() override {
    const int index = GetParam() == engine::Mode::cold ? 0 : 1;
    if (!executors_[index] && errors_[index].empty()) {
      engine::ExecutorConfig config;
      config.mode = GetParam();
      auto made = engine::make_executor(config);
      if (made) {
        executors_[index] = std::move(*made);
      } else {
        errors_[index] = made.error().message;
      }
    }
    executor_ = executors_[index].get();
    ASSERT_NE(executor_, nullptr) << "make_executor failed: " << errors_[index];
  }

  // Runs a script whose main() must succeed; returns its result parsed.
  boost::json::value result_of(std::string_view script) {
    engine::Outcome outcome = executor_->run(script);
    EXPECT_TRUE(outcome.ok()) << engine::render_outcome(outcome);
    if (!outcome.ok()) return nullptr;
    return boost::json::parse(outcome.result_json);
  }

  engine::Executor* executor_ = nullptr;
  static inline std::unique_ptr<engine::Executor> executors_[2];
  static inline std::string errors_[2];
};

INSTANTIATE_TEST_SUITE_P(Modes, SandboxFromInside,
                         ::testing::Values(engine::Mode::cold, engine::Mode::warm),
                         [](const auto& info) {
                           return info.param == engine::Mode::cold ? "cold" : "warm";
                         });

TEST_P(SandboxFromInside, IsolationReportClaimsEveryLayer) {
  const engine::IsolationReport report = executor_->isolation();
  EXPECT_TRUE(report.namespaces);
  EXPECT_TRUE(report.seccomp);
  EXPECT_TRUE(report.memory_limit);
  EXPECT_TRUE(report.pids_limit);
  EXPECT_FALSE(report.weakened);
  EXPECT_NE(report.cgroup_version, "none");
  EXPECT_EQ(executor_->mode(), GetParam());
}

TEST_P(SandboxFromInside, ScriptRunsAsNobodyWithNoGroups) {
  EXPECT_EQ(
      result_of("import os\n"
                "def main():\n"
                "    return [os.getuid(), os.geteuid(), os.getgid(), os.getegid(),\n"
                "            os.getgroups(), os.getresuid(), os.getresgid()]\n"),
      boost::json::parse("[65534,65534,65534,65534,[],[65534,65534,65534],[65534,65534,65534]]"));
}

TEST_P(SandboxFromInside, ScriptIsPid2UnderOurInit) {
  EXPECT_EQ(result_of("import os\n"
                      "def main():\n"
                      "    return [os.getpid(), os.getppid()]\n"),
            boost::json::parse("[2,1]"));
}

TEST_P(SandboxFromInside, InitIsNotInspectableByTheScript) {
  // Init keeps privileges the payload lacks; its memory and fds must be out of reach.
  boost::json::value seen = result_of(
      "def main():\n"
      "    out = []\n"
      "    for path in ('/proc/1/environ', '/proc/1/mem', '/proc/1/fd/0'):\n"
      "        try:\n"
      "            open(path, 'rb').close()\n"
      "            out.append('readable')\n"
      "        except OSError as e:\n"
      "            out.append(e.__class__.__name__)\n"
      "    return out\n");
  ASSERT_TRUE(seen.is_array());
  for (const auto& item : seen.as_array()) EXPECT_NE(item, "readable") << seen;
}

TEST_P(SandboxFromInside, HostnameIsStacksync) {
  EXPECT_EQ(result_of("import os, socket\n"
                      "def main():\n"
                      "    return [socket.gethostname(), os.uname().nodename]\n"),
            boost::json::parse(R"(["stacksync","stacksync"])"));
}

TEST_P(SandboxFromInside, RootIsReadOnly) {
  // Creating files fails with EROFS (30), not merely for lack of permission; and the kernel
  // reports every mount but /tmp as read-only (ST_RDONLY = 1) and nosuid (ST_NOSUID = 2).
  EXPECT_EQ(result_of("import os\n"
                      "def main():\n"
                      "    out = []\n"
                      "    for path in ('/usr/x', '/x', '/etc/x', '/dev/x'):\n"
                      "        try:\n"
                      "            open(path, 'w').close()\n"
                      "            out.append(0)\n"
                      "        except OSError as e:\n"
                      "            out.append(e.errno)\n"
                      "    flags = [os.statvfs(p).f_flag & 3 for p in\n"
                      "             ('/', '/usr', '/etc/passwd', '/usr/bin/python3', '/dev/null',\n"
                      "              '/tmp')]\n"
                      "    return [out, flags]\n"),
            boost::json::parse("[[30,30,30,30],[3,3,3,3,3,2]]"));
}

TEST_P(SandboxFromInside, SeccompSocketRuleHoldsForRawSyscalls) {
  // The script can make raw syscalls with ctypes. socket() reads its family as a 32-bit int,
  // so (1 << 32) | AF_NETLINK is AF_NETLINK to the kernel and must be denied like it (EPERM).
  boost::json::value seen = result_of(
      "import ctypes\n"
      "def main():\n"
      "    libc = ctypes.CDLL(None, use_errno=True)\n"
      "    out = {}\n"
      "    for name, family, kind in (('netlink', 16, 3), ('alg', 38, 5), ('packet', 17, 2)):\n"
      "        for label, value in (('plain', family), ('high_bits', (1 << 32) | family)):\n"
      "            ctypes.set_errno(0)\n"
      "            rc = libc.syscall(ctypes.c_long(41), ctypes.c_long(value),\n"
      "                              ctypes.c_long(kind), ctypes.c_long(0))\n"
      "            out[name + ' ' + label] = 'created' if rc >= 0 else ctypes.get_errno()\n"
      "    return out\n");
  ASSERT_TRUE(seen.is_object()) << seen;
  EXPECT_EQ(seen.as_object().size(), 6u);
  for (const auto& [attempt, result] : seen.as_object())
    EXPECT_EQ(result, 1) << "socket(" << std::string(attempt) << "): " << seen;
}

TEST_P(SandboxFromInside, TmpIsAWritableTmpfsOfTheConfiguredSize) {
  boost::json::value seen = result_of(
      "import os\n"
      "def main():\n"
      "    with open('/tmp/data', 'wb') as f:\n"
      "        f.write(b'x' * 1048576)\n"
      "    size = os.path.getsize('/tmp/data')\n"
      "    st = os.statvfs('/tmp')\n"
      "    return [size, st.f_blocks * st.f_frsize, os.getcwd()]\n");
  ASSERT_TRUE(seen.is_array()) << seen;
  EXPECT_EQ(seen.as_array()[0], 1048576);
  EXPECT_EQ(seen.as_array()[1], engine::Limits{}.tmpfs_bytes);
  EXPECT_EQ(seen.as_array()[2], "/tmp");
}

TEST_P(SandboxFromInside, TmpFillsUpAtItsLimit) {
  // Two files below RLIMIT_FSIZE each, together beyond the 64 MiB tmpfs: 28 is ENOSPC.
  EXPECT_EQ(result_of("def main():\n"
                      "    block = b'x' * 1048576\n"
                      "    try:\n"
                      "        for name in ('a', 'b'):\n"
                      "            with open('/tmp/' + name, 'wb') as f:\n"
                      "                for _ in range(40):\n"
                      "                    f.write(block)\n"
                      "    except OSError as e:\n"
                      "        return e.errno\n"
                      "    return 0\n"),
            boost::json::value(28));
}

TEST_P(SandboxFromInside, TmpIsFreshForEveryRun) {
  (void)result_of("def main():\n    open('/tmp/left-behind', 'w').write('x')\n    return 1\n");
  EXPECT_EQ(result_of("import os\ndef main():\n    return os.listdir('/tmp')\n"),
            boost::json::parse("[]"));
}

TEST_P(SandboxFromInside, OnlyLoopbackExists) {
  EXPECT_EQ(result_of("def main():\n"
                      "    lines = open('/proc/net/dev').read().splitlines()[2:]\n"
                      "    return [line.split(':')[0].strip() for line in lines]\n"),
            boost::json::parse(R"(["lo"])"));
}

TEST_P(SandboxFromInside, HostLoopbackIsUnreachable) {
  // A real listener on the host's 127.0.0.1: the sandbox's loopback is another one entirely.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const int port = ntohs(address.sin_port);

  boost::json::value seen = result_of(
      "import socket\n"
      "def main():\n"
      "    out = []\n"
      "    for host in ('127.0.0.1', '10.0.2.2', '8.8.8.8'):\n"
      "        s = socket.socket()\n"
      "        s.settimeout(1)\n"
      "        try:\n"
      "            s.connect((host, " +
      std::to_string(port) +
      "))\n"
      "            out.append('connected')\n"
      "        except OSError as e:\n"
      "            out.append(e.__class__.__name__)\n"
      "        s.close()\n"
      "    return out\n");
  ASSERT_TRUE(seen.is_array()) << seen;
  for (const auto& attempt : seen.as_array()) EXPECT_NE(attempt, "connected") << seen;
  pollfd pending{listener, POLLIN, 0};
  EXPECT_EQ(::poll(&pending, 1, 0), 0) << "the host listener saw a connection";
  ::close(listener);
}

TEST_P(SandboxFromInside, EveryNamespaceDiffersFromTheHosts) {
  boost::json::value seen = result_of(
      "import os\n"
      "def main():\n"
      "    names = ('user', 'pid', 'mnt', 'net', 'ipc', 'uts', 'cgroup')\n"
      "    return {n: os.readlink('/proc/self/ns/' + n) for n in names}\n");
  ASSERT_TRUE(seen.is_object()) << seen;
  for (const auto& [name, link] : seen.as_object()) {
    char host[256] = {};
    const std::string path = "/proc/self/ns/" + std::string(name);
    ASSERT_GT(::readlink(path.c_str(), host, sizeof(host) - 1), 0) << path;
    EXPECT_NE(std::string(link.as_string()), std::string(host)) << name << " is shared";
  }
  EXPECT_EQ(seen.as_object().size(), 7u);
}

TEST_P(SandboxFromInside, NoCapabilitiesNoNewPrivsAndSeccompOn) {
  boost::json::value seen = result_of(
      "def main():\n"
      "    keep = ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp')\n"
      "    out = {}\n"
      "    for line in open('/proc/self/status'):\n"
      "        key, _, value = line.partition(':')\n"
      "        if key in keep:\n"
      "            out[key] = value.strip()\n"
      "    return out\n");
  EXPECT_EQ(seen, boost::json::parse(R"({"CapInh":"0000000000000000","CapPrm":"0000000000000000",)"
                                     R"("CapEff":"0000000000000000","CapBnd":"0000000000000000",)"
                                     R"("CapAmb":"0000000000000000","NoNewPrivs":"1",)"
                                     R"("Seccomp":"2"})"));
}

TEST_P(SandboxFromInside, RlimitsAreTheConfiguredOnes) {
  const engine::Limits limits;
  boost::json::value seen = result_of(
      "import resource\n"
      "def main():\n"
      "    names = ('RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE', 'RLIMIT_CORE',\n"
      "             'RLIMIT_MEMLOCK')\n"
      "    return {n: list(resource.getrlimit(getattr(resource, n))) for n in names}\n");
  const auto cpu = static_cast<std::uint64_t>(limits.cpu_seconds);
  boost::json::object expected;
  expected["RLIMIT_CPU"] = boost::json::array{cpu, cpu + 1};
  expected["RLIMIT_FSIZE"] = boost::json::array{limits.file_bytes, limits.file_bytes};
  expected["RLIMIT_NOFILE"] = boost::json::array{limits.open_files, limits.open_files};
  expected["RLIMIT_CORE"] = boost::json::array{0, 0};
  expected["RLIMIT_MEMLOCK"] = boost::json::array{0, 0};
  EXPECT_EQ(seen, boost::json::value(expected));
}

TEST_P(SandboxFromInside, HostDirectoriesAreNotVisible) {
  EXPECT_EQ(result_of("import os\n"
                      "def main():\n"
                      "    paths = ('/home', '/root', '/var', '/work', '/sys', '/run', '/boot',\n"
                      "             '/etc/shadow', '/etc/hosts')\n"
                      "    return [p for p in paths if os.path.exists(p)]\n"),
            boost::json::parse("[]"));
}

TEST_P(SandboxFromInside, DevHoldsOnlyHarmlessDevices) {
  EXPECT_EQ(
      result_of("import os\n"
                "def main():\n"
                "    return sorted(os.listdir('/dev'))\n"),
      boost::json::parse(R"(["fd","null","random","stderr","stdin","stdout","urandom","zero"])"));
}

TEST_P(SandboxFromInside, EnvironmentIsTheFixedOneNotTheServices) {
  boost::json::value seen = result_of(
      "import os\n"
      "def main():\n"
      "    return [os.environ.get('HOME'), 'STACKSYNC_TEST_SECRET' in os.environ,\n"
      "            os.environ.get('PATH')]\n");
  ASSERT_TRUE(seen.is_array()) << seen;
  EXPECT_EQ(seen.as_array()[0], "/tmp");
  EXPECT_EQ(seen.as_array()[1], false);
  EXPECT_EQ(seen.as_array()[2], "/usr/local/bin:/usr/bin:/bin");
}

TEST_P(SandboxFromInside, ScriptSeesOnlyItsOwnFewDescriptors) {
  // stdin, stdout, stderr and the harness's result channel; nothing of the service.
  boost::json::value seen = result_of(
      "import os\n"
      "def main():\n"
      "    fds = os.listdir('/proc/self/fd')\n"
      "    return sorted(int(fd) for fd in fds)\n");
  ASSERT_TRUE(seen.is_array()) << seen;
  EXPECT_LE(seen.as_array().size(), 5u) << seen;  // 0, 1, 2, the channel, listdir's own
  for (const auto& fd : seen.as_array()) EXPECT_LE(fd.as_int64(), 5) << seen;
}

TEST_P(SandboxFromInside, PandasWorks) {
  EXPECT_EQ(result_of("import pandas as pd\n"
                      "def main():\n"
                      "    df = pd.DataFrame({'a': [1, 2, 3]})\n"
                      "    return {'sum': int(df['a'].sum()), 'mean': float(df['a'].mean())}\n"),
            boost::json::parse(R"({"sum":6,"mean":2.0})"));
}

// ---- spawn_sandbox directly: failures name their layer --------------------------------------

struct DirectSandbox : ::testing::Test {
  void SetUp() override {
    auto built = jail::build_seccomp_filter();
    ASSERT_TRUE(built.ok()) << built.error().message;
    filter = std::move(*built);
    auto planned = jail::plan_root_filesystem({});
    ASSERT_TRUE(planned.ok()) << planned.error().message;
    plan = std::move(*planned);
  }

  jail::SandboxSpec spec(std::vector<std::string> argv) const {
    jail::SandboxSpec s;
    s.argv = std::move(argv);
    s.env = {"PATH=/usr/bin"};
    s.mounts = &plan;
    s.seccomp = &filter;
    return s;
  }

  static void kill_and_reap(jail::Sandbox& sandbox) {
    ::syscall(SYS_pidfd_send_signal, sandbox.pidfd.get(), SIGKILL, nullptr, 0);
    int status = 0;
    ::waitpid(sandbox.pid, &status, 0);
  }

  jail::SeccompFilter filter;
  jail::MountPlan plan;
};

TEST_F(DirectSandbox, MissingProgramIsAnExecLayerSandboxError) {
  auto spawned = jail::spawn_sandbox(spec({"/nonexistent/stacksync/python3"}));
  ASSERT_FALSE(spawned) << "a program that does not exist cannot have started";
  EXPECT_EQ(spawned.error().layer, "exec");
  EXPECT_NE(spawned.error().message.find("/nonexistent/stacksync/python3"), std::string::npos)
      << spawned.error().message;
  EXPECT_NE(spawned.error().message.find("No such file"), std::string::npos)
      << spawned.error().message;

  engine::Outcome outcome = engine::sandbox_error(spawned.error().layer, spawned.error().message);
  boost::json::value json = boost::json::parse(engine::render_outcome(outcome));
  EXPECT_EQ(json.at("type"), "sandbox_error");
  EXPECT_EQ(json.at("layer"), "exec");
}

TEST_F(DirectSandbox, ProgramOutsideTheSandboxRootIsAnExecLayerError) {
  // The program exists on the host but not inside: the exec happens after pivot_root.
  ::mkdir("/tmp/stacksync-unit-host-only", 0755);
  ::close(::open("/tmp/stacksync-unit-host-only/prog", O_CREAT | O_WRONLY | O_CLOEXEC, 0755));
  auto spawned = jail::spawn_sandbox(spec({"/tmp/stacksync-unit-host-only/prog"}));
  ::unlink("/tmp/stacksync-unit-host-only/prog");
  ::rmdir("/tmp/stacksync-unit-host-only");
  ASSERT_FALSE(spawned);
  EXPECT_EQ(spawned.error().layer, "exec");
}

TEST_F(DirectSandbox, BrokenMountPlanIsAMountsLayerError) {
  plan.steps.insert(plan.steps.begin(),
                    {jail::MountStep::Kind::bind, "/nonexistent-stacksync-source",
                     plan.staging + "/usr", "", MS_BIND});
  auto spawned = jail::spawn_sandbox(spec({"/usr/bin/true"}));
  ASSERT_FALSE(spawned);
  EXPECT_EQ(spawned.error().layer, "mounts");
  EXPECT_NE(spawned.error().message.find("bind"), std::string::npos) << spawned.error().message;
}

TEST_F(DirectSandbox, IncompleteSpecIsRefused) {
  jail::SandboxSpec s = spec({"/usr/bin/true"});
  s.seccomp = nullptr;
  auto spawned = jail::spawn_sandbox(s);
  ASSERT_FALSE(spawned);
  EXPECT_EQ(spawned.error().layer, "internal");
}

TEST_F(DirectSandbox, TheSandboxInitHoldsNoDescriptorOfTheService) {
  // The service's own descriptors (client sockets, other runs' pipes) must not live on in a
  // sandbox process. A sentinel pipe stands in for them; it is close-on-exec, as they are.
  int sentinel[2];
  ASSERT_EQ(::pipe2(sentinel, O_CLOEXEC), 0);
  struct stat sentinel_info {};
  ASSERT_EQ(::fstat(sentinel[1], &sentinel_info), 0);
  const std::string sentinel_link = "pipe:[" + std::to_string(sentinel_info.st_ino) + "]";

  auto spawned = jail::spawn_sandbox(spec({"/usr/bin/sleep", "5"}));
  ASSERT_TRUE(spawned) << spawned.error().layer << ": " << spawned.error().message;
  jail::Sandbox& sandbox = *spawned;

  std::vector<std::string> leaked;
  const std::string fd_dir = "/proc/" + std::to_string(sandbox.pid) + "/fd";
  if (DIR* dir = ::opendir(fd_dir.c_str())) {
    while (dirent* entry = ::readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      char link[256] = {};
      const std::string path = fd_dir + "/" + entry->d_name;
      if (::readlink(path.c_str(), link, sizeof(link) - 1) > 0 && sentinel_link == link)
        leaked.push_back(entry->d_name);
    }
    ::closedir(dir);
  } else {
    ADD_FAILURE() << "cannot list " << fd_dir;
  }
  kill_and_reap(sandbox);
  ::close(sentinel[0]);
  ::close(sentinel[1]);
  EXPECT_TRUE(leaked.empty()) << "the sandbox's init (host pid " << sandbox.pid
                              << ") holds the service's pipe as fd " << leaked.front()
                              << "; it never execs, so close-on-exec does not apply to it";
}

TEST_F(DirectSandbox, UnmappedHostRootDoesNotOwnAnything) {
  // Payload runs; its uid inside maps to 65534 outside, never to the host's root.
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  jail::SandboxSpec s = spec({"/usr/bin/sleep", "5"});
  s.fds = {{out[1], 1}};
  auto spawned = jail::spawn_sandbox(s);
  ASSERT_TRUE(spawned) << spawned.error().message;
  jail::Sandbox& sandbox = *spawned;
  // The payload is the init's only child; read its host-side uid from /proc.
  const std::string children_path =
      "/proc/" + std::to_string(sandbox.pid) + "/task/" + std::to_string(sandbox.pid) + "/children";
  std::string children;
  for (int i = 0; i < 100 && children.empty(); ++i) {
    FILE* f = std::fopen(children_path.c_str(), "r");
    if (f) {
      char buffer[64] = {};
      if (std::fgets(buffer, sizeof(buffer), f)) children = buffer;
      std::fclose(f);
    }
    if (children.empty()) ::usleep(10000);
  }
  ASSERT_FALSE(children.empty()) << "no payload under init " << sandbox.pid;
  const pid_t payload = std::stoi(children);
  struct stat info {};
  ASSERT_EQ(::stat(("/proc/" + std::to_string(payload)).c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, 65534u);
  EXPECT_EQ(info.st_gid, 65534u);
  kill_and_reap(sandbox);
  ::close(out[0]);
  ::close(out[1]);
}

// ---- spawning from a multithreaded service --------------------------------------------------

// A thread that idles until told to stop, like the server's workers or the cgroup reaper.
class IdleThread {
 public:
  IdleThread()
      : thread_([this] {
          std::unique_lock lock(mutex_);
          wake_.wait(lock, [this] { return stop_; });
        }) {}
  ~IdleThread() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

TEST_F(DirectSandbox, SpawnsFromAProcessWithOtherThreads) {
  // Control for the test below: a thread that has already run (the steady state of a server)
  // was never a problem, only one that was created but had not run yet.
  IdleThread idle;
  ::usleep(50000);  // the thread is up and parked
  const auto start = std::chrono::steady_clock::now();
  auto spawned = jail::spawn_sandbox(spec({"/usr/bin/true"}));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(spawned) << spawned.error().layer << ": " << spawned.error().message;
  kill_and_reap(*spawned);
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST_F(DirectSandbox, SpawnsRightAfterAThreadWasCreated) {
  // The warm executor starts its cgroup reaper thread and then spawns the zygote; a server
  // starts threads while it spawns sandboxes. glibc's setgroups/setresuid in a multithreaded
  // process first wait for every thread that was created but has not run yet, and in a clone3
  // child such a thread never runs: the child hangs. On a busy machine the reaper thread often
  // has not run yet when the zygote is spawned. To make that state certain here, this thread
  // runs SCHED_FIFO pinned to one CPU, so the new thread (inheriting both) cannot run before
  // this one blocks, i.e. not before the clone.
  cpu_set_t original_cpus;
  ASSERT_EQ(::sched_getaffinity(0, sizeof(original_cpus), &original_cpus), 0);
  const int original_policy = ::sched_getscheduler(0);
  sched_param original_param{};
  ::sched_getparam(0, &original_param);
  cpu_set_t one_cpu;
  CPU_ZERO(&one_cpu);
  CPU_SET(::sched_getcpu(), &one_cpu);
  ASSERT_EQ(::sched_setaffinity(0, sizeof(one_cpu), &one_cpu), 0);
  const sched_param fifo{1};
  const bool realtime = ::sched_setscheduler(0, SCHED_FIFO, &fifo) == 0;

  std::string failure;
  {
    IdleThread created_not_yet_running;
    auto spawned = jail::spawn_sandbox(spec({"/usr/bin/true"}));
    if (spawned) {
      kill_and_reap(*spawned);
    } else {
      failure = spawned.error().layer + ": " + spawned.error().message;
    }
    ::sched_setscheduler(0, original_policy, &original_param);
    ::sched_setaffinity(0, sizeof(original_cpus), &original_cpus);
  }
  if (!realtime) GTEST_SKIP() << "SCHED_FIFO not allowed here: the race cannot be forced";
  EXPECT_TRUE(failure.empty()) << failure;
}

// ---- warm mode: a zygote restarted during a request -----------------------------------------

TEST(WarmZygote, RequestThatRestartsADeadZygoteStillSucceedsPromptly) {
  // The zygote's sandbox init is spawned while this request's pipes are open. If that init keeps
  // their write ends (it never execs, so close-on-exec does not help), the pipes never reach EOF
  // and a trivial script ends as a false "timeout" after the full wall limit.
  engine::ExecutorConfig config;
  config.mode = engine::Mode::warm;
  auto made = engine::make_executor(config);
  ASSERT_TRUE(made.ok()) << made.error().message;
  std::unique_ptr<engine::Executor> executor = std::move(*made);
  auto* warm = dynamic_cast<engine::WarmExecutor*>(executor.get());
  ASSERT_NE(warm, nullptr);

  const int zygote = warm->zygote_pid();
  ASSERT_GT(zygote, 0);
  ASSERT_EQ(::kill(zygote, SIGKILL), 0);
  for (int i = 0; i < 200 && ::access(("/proc/" + std::to_string(zygote)).c_str(), F_OK) == 0; ++i)
    ::usleep(10000);

  const auto start = std::chrono::steady_clock::now();
  engine::Outcome outcome = executor->run("def main():\n    return 2\n");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(outcome.ok()) << engine::render_outcome(outcome);
  EXPECT_EQ(outcome.result_json, "2");
  EXPECT_LT(elapsed, std::chrono::seconds(3))
      << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";
  EXPECT_EQ(warm->zygotes_started(), 2);
}

}  // namespace
}  // namespace stacksync
