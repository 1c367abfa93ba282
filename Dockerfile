# syntax=docker/dockerfile:1
# The one image of the platform: the `inburgering` binary, which runs every service
# (`inburgering serve <service>`), the migrations and the event tools. Build:
#   docker build -t inburgering:$(git describe --tags --always) .
# No shell, no package manager in the runtime image; it runs as uid 65532 (nonroot) and
# writes nothing to its filesystem, so Kubernetes can mount the root read-only.

FROM rust:1-bookworm AS build
# rdkafka builds librdkafka with cmake; the libcurl headers are what the workspace's
# scripts/setup installs too. protoc is vendored by the proto crate. Build stage only (none
# of it reaches the runtime image), so the versions are the bookworm archive's of the day.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the target folder between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p inburgering \
 && install -m 0755 target/release/inburgering /inburgering

# glibc, libgcc and CA certificates, nothing else: the binary links only libc, libm and
# libgcc_s (rustls for TLS, librdkafka linked statically).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /inburgering /inburgering
# Numeric, so that Kubernetes can verify runAsNonRoot without a runAsUser.
USER 65532:65532
# gRPC and Prometheus /metrics (INBURGERING_GRPC_ADDR, INBURGERING_METRICS_ADDR).
EXPOSE 50051 9464
ENTRYPOINT ["/inburgering"]
CMD ["--help"]
