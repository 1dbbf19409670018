# sentinel-detector: reference gRPC DetectorService (port 50051); prints each
# anomaly as a JSON line on stdout.
#
#   podman build -f docker/detector.Dockerfile -t sentinel-ebpf/sentinel-detector:0.1.0 .
#   (docker build works the same way)
#
# The final image is the binary, the shared libraries it loads and the
# loader: no shell, no package manager; runs as uid/gid 65532.
# The build stage is identical in docker/agent.Dockerfile, so building
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
	&& strip /build/sentinel-agent /build/sentinel-detector
COPY docker/scratch-rootfs.sh /usr/local/bin/
RUN bash /usr/local/bin/scratch-rootfs.sh /build/detector-root /build/sentinel-detector
# A user and group for 65532, and a /tmp.
RUN mkdir -p /build/detector-root/etc /build/detector-root/tmp \
	&& chmod 1777 /build/detector-root/tmp \
	&& echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin' >/build/detector-root/etc/passwd \
	&& echo 'nonroot:x:65532:' >/build/detector-root/etc/group \
	&& install -D -m 0755 /build/sentinel-detector /build/detector-root/usr/bin/sentinel-detector

FROM scratch
COPY --from=build /build/detector-root/ /
USER 65532:65532
EXPOSE 50051
ENTRYPOINT ["/usr/bin/sentinel-detector"]

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="sentinel-detector" \
	org.opencontainers.image.description="sentinel-ebpf reference detector: gRPC DetectorService that scores file events and prints anomalies as JSON lines" \
	org.opencontainers.image.version="${VERSION}" \
	org.opencontainers.image.revision="${REVISION}" \
	org.opencontainers.image.created="${CREATED}" \
	org.opencontainers.image.licenses="Apache-2.0" \
	org.opencontainers.image.vendor="sentinel-ebpf"
