# StackSync container image.
#
#   docker build -t stacksync .
#   docker run --privileged -p 8080:8080 stacksync
#
# The jail inside needs what container runtimes withhold by default: an unmasked /proc (for the
# sandboxes' own proc mounts) and a writable cgroup; CAP_SYS_ADMIN is enough for the entrypoint
# to provide both (see deploy/container-entrypoint.sh). Without them the service fails closed:
# a CRITICAL log line names the missing layer, and /healthz and /execute answer 503 with it (no
# script ever runs). The README lists the narrower flag sets that were tested and what each gives.

# ---- build stage: compilers and -dev packages live only here -------------------------------
FROM debian:bookworm AS build

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config libseccomp-dev libboost1.81-dev libboost-json1.81-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# .dockerignore admits only CMakeLists.txt, cmake/, src/ and the entrypoint script: other build
# directories in a developer's checkout never reach the build context.
COPY . .

# RelWithDebInfo (-O2) is what the test suites build and exercise; the debug info is stripped
# below. (-O3 "Release" also trips g++ 12's false-positive -Wrestrict under -Werror.)
# Two jobs: the reference machines have two cores, and more only thrashes.
ARG BUILD_JOBS=2
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTACKSYNC_TESTS=OFF \
 && cmake --build build -j"${BUILD_JOBS}" \
 && strip --strip-unneeded build/stacksync

# ---- runtime stage: the interpreter the jail runs, the binary's libraries, tini -------------
FROM debian:bookworm-slim

# python3 + numpy + pandas: the sandboxed interpreter (the jail bind-mounts /usr read-only).
# libseccomp2, libboost-json1.81.0: the binary's shared libraries (checked by ldd below).
# tini: PID 1 that forwards SIGTERM to the service and reaps orphans re-parented to it.
# Docs, man pages and locales are dropped; the .pyc files are kept on purpose: the sandbox
# runs python without writing bytecode, so without them every cold run would recompile
# pandas from source (measured in deploy/README-deploy.md).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-numpy python3-pandas libseccomp2 libboost-json1.81.0 tini \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \
           /usr/share/doc /usr/share/man /usr/share/info /usr/share/locale /usr/share/lintian \
 && find /usr/lib/python3/dist-packages -depth -type d -name tests -path '*/pandas/*' \
      -exec rm -rf {} + \
 && find /usr/lib/python3/dist-packages -depth -type d -name tests -path '*/numpy/*' \
      -exec rm -rf {} +

# Under /opt, not /usr/local: the jail bind-mounts /usr into every sandbox, and the service's
# own binary must not be visible there.
COPY --from=build /src/build/stacksync /opt/stacksync/bin/stacksync
COPY deploy/container-entrypoint.sh /opt/stacksync/bin/stacksync-entrypoint
ENV PATH=/opt/stacksync/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Fail the image build, not the first request, if a runtime library is missing.
RUN chmod 755 /opt/stacksync/bin/stacksync-entrypoint \
 && if ldd /opt/stacksync/bin/stacksync | grep 'not found'; then exit 1; fi \
 && stacksync version

# Cloud Run sets PORT; everywhere else 8080 is the default.
ENV PORT=8080
EXPOSE 8080

# The service runs as root inside the container (not a user namespace): it creates the sandboxes'
# cgroups below its own and maps each sandbox's uid/gid 65534 into a user namespace of its own;
# scripts never run as root and hold no capabilities.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/bin/python3", "-I", "-c", "import os,urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT','8080'), timeout=2).status == 200 else 1)"]

# tini (PID 1) forwards SIGTERM to the service, which drains and exits 0, and reaps orphans.
# The entrypoint script removes the /proc masks and makes the container's cgroup writable (see
# it), then execs stacksync.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/opt/stacksync/bin/stacksync-entrypoint"]
CMD ["serve"]
