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
		kmod xz-utils \
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
# No distribution in the image: the two binaries, the libraries they load
# (libbcc's clang/LLVM for the helper, about 215 of the image's MB) with
# their packages' dpkg records, gRPC's default TLS roots, and the programs
# libbcc 0.26's last resort runs through system() when no kernel headers are
# mounted (CONFIG_IKHEADERS): "modprobe kheaders", "tar -xf
# /sys/kernel/kheaders.tar.xz -C DIR" (tar runs xz), "rmmod kheaders", and
# "rm -rf DIR" when the extraction fails. Measured: 403 MB from
# debian:bookworm-slim with the runtime packages, 57 MB of it apt's
# downloaded .deb files.
RUN bash /usr/local/bin/scratch-rootfs.sh /build/agent-root \
		/build/sentinel-agent /build/sentinel-probe-build \
		--tools /bin/sh /bin/tar /usr/bin/xz /bin/rm /usr/sbin/modprobe /usr/sbin/rmmod \
	&& install -D -m 0644 /usr/share/grpc/roots.pem /build/agent-root/usr/share/grpc/roots.pem \
	&& install -D -m 0755 /build/sentinel-agent /build/agent-root/usr/bin/sentinel-agent \
	&& install -D -m 0755 /build/sentinel-probe-build /build/agent-root/usr/bin/sentinel-probe-build \
	&& mkdir -p /build/agent-root/etc/sentinel-ebpf /build/agent-root/tmp \
	&& chmod 1777 /build/agent-root/tmp
# A library added to the build must reach the image: fail here, not at run
# time. And the agent itself must not link libbcc (libLLVM would stay
# mapped for the life of the pod).
RUN for b in sentinel-agent sentinel-probe-build; do \
		if chroot /build/agent-root /lib64/ld-linux-x86-64.so.2 --list "/usr/bin/$b" | grep 'not found'; then \
			echo "$b needs a library the image lacks: see docker/scratch-rootfs.sh" >&2; \
			exit 1; \
		fi; \
	done \
	&& chroot /build/agent-root /usr/bin/sentinel-agent --version \
	&& chroot /build/agent-root /bin/sh -c 'for t in tar xz rm modprobe rmmod; do command -v "$t" || exit 1; done' \
	&& if ldd /build/sentinel-agent | grep -E 'libbcc|libLLVM|libclang'; then \
		echo 'sentinel-agent links libbcc: only sentinel-probe-build may' >&2; \
		exit 1; \
	fi

FROM scratch
COPY --from=build /build/agent-root/ /
# libbcc's system() and tar find their programs through PATH.
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
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
	org.opencontainers.image.base.name="scratch"
