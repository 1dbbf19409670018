# sentinel-agent: eBPF file I/O tracer (libbcc compiles the probe at start-up).
#
#   podman build -f docker/agent.Dockerfile -t sentinel-ebpf/sentinel-agent:0.1.0 .
#   (docker build works the same way)
#
# Runs privileged, in the host PID namespace, with the node's /lib/modules
# and /usr/src (kernel headers: libbcc needs them at run time, they are not in
# the image), /sys/kernel/debug and /sys/kernel/tracing mounted read-only.
# The build stage is identical in docker/detector.Dockerfile, so building
# both images compiles once.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS build
RUN apt-get update -qq \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		gcc libc6-dev make cmake pkg-config \
		libbpfcc-dev libbpf-dev libyaml-dev libcivetweb-dev uuid-dev uthash-dev libjson-c-dev \
		libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev libgrpc-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads (a new top-level source directory goes here too).
COPY CMakeLists.txt ./
COPY cmake cmake
COPY proto proto
COPY probes probes
COPY common common
COPY agent agent
COPY detector detector
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DSENTINEL_TESTS=OFF >/dev/null \
	&& cmake --build /build -j"$(nproc)" \
	&& strip /build/sentinel-agent /build/sentinel-probe-build /build/sentinel-detector
COPY docker/scratch-rootfs.sh /usr/local/bin/
RUN bash /usr/local/bin/scratch-rootfs.sh /build/detector-root /build/sentinel-detector

FROM ${BASE_IMAGE}
# The libraries' packages, not from the build stage: this layer then stays
# cached when only the sources change. libbpfcc brings libbcc's embedded
# clang/LLVM libraries (no compiler driver, no headers), for the compile
# helper only; libbpf1 is the agent's BPF library (maps, attach, ring
# buffer); libcivetweb1 is for the health/metrics endpoints. xz-utils and kmod serve libbcc's last resort,
# the kernel's own headers ("modprobe kheaders", tar -xf
# /sys/kernel/kheaders.tar.xz; CONFIG_IKHEADERS).
RUN apt-get update -qq \
	&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		libbpfcc libbpf1 libyaml-0-2 libuuid1 libjson-c5 libprotobuf-c1 libgrpc29 libcivetweb1 \
		xz-utils kmod \
	&& rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log
# The compile helper beside the agent, where the agent looks for it.
COPY --from=build /build/sentinel-agent /build/sentinel-probe-build /usr/bin/
# A library added to the build must be added above too: fail here, not at
# run time. And the agent itself must not link libbcc (libLLVM would stay
# mapped for the life of the pod).
RUN for b in sentinel-agent sentinel-probe-build; do \
		if ldd "/usr/bin/$b" | grep 'not found'; then \
			echo "$b needs a library the image lacks: add its package to docker/agent.Dockerfile" >&2; \
			exit 1; \
		fi; \
	done \
	&& if ldd /usr/bin/sentinel-agent | grep -E 'libbcc|libLLVM|libclang'; then \
		echo 'sentinel-agent links libbcc: only sentinel-probe-build may' >&2; \
		exit 1; \
	fi
# Config and rules: /etc/sentinel-ebpf/{agent-config,rules}.yaml (a ConfigMap).
ENTRYPOINT ["/usr/bin/sentinel-agent"]

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="sentinel-agent" \
	org.opencontainers.image.description="sentinel-ebpf node agent: traces file reads and writes with eBPF (libbcc) and forwards rule matches to a detector over gRPC" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.revision="${REVISION}" \
	org.opencontainers.image.created="${CREATED}" \
	org.opencontainers.image.licenses="Apache-2.0" \
	org.opencontainers.image.vendor="sentinel-ebpf" \
	org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
