# syntax=docker/dockerfile:1
#
# Burnwatch: a static binary on distroless, running as uid 65532.
#
#   docker build -t burnwatch:dev --build-arg VERSION="$(git describe --tags --always)" .
#   docker run --rm -p 4317:4317 -p 4318:4318 -p 9464:9464 \
#     -v burnwatch-data:/var/lib/burnwatch -v "$PWD/specs/examples:/etc/burnwatch/specs:ro" burnwatch:dev
#
# The image runs the embedded default config (cmd/burnwatch/default.yaml,
# copied to /etc/burnwatch/config.yaml) with the ENV below: OTLP and the HTTP
# endpoint on every interface, state in /var/lib/burnwatch, the spec files in
# /etc/burnwatch/specs. docs/deploy.md has the rest; the deploy package's
# tests build the binary the way this file does (deploy/build.sh) and check
# that it is static.

# Keep at or above the go line of go.mod (TestDockerfile checks).
ARG GO_VERSION=1.26.7

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=0.1.0-dev
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH deploy/build.sh /out/burnwatch "$VERSION"
# The data directory, to be copied with its owner into the final image:
# a fresh named volume on it inherits uid 65532, so the daemon can write.
RUN mkdir -p /out/var/lib/burnwatch

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=0.1.0-dev
LABEL org.opencontainers.image.title="burnwatch" \
      org.opencontainers.image.description="OpenTelemetry-native SLO alerting daemon" \
      org.opencontainers.image.source="https://github.com/burnwatch/burnwatch" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/burnwatch /usr/bin/burnwatch
COPY --from=build --chown=65532:65532 /out/var/lib/burnwatch /var/lib/burnwatch
COPY cmd/burnwatch/default.yaml /etc/burnwatch/config.yaml
COPY specs/examples/examples.yaml /etc/burnwatch/specs/examples.yaml
ENV BURNWATCH_SPECS="/etc/burnwatch/specs/*.yaml" \
    BURNWATCH_DATA_DIR=/var/lib/burnwatch \
    BURNWATCH_OTLP_GRPC_ENDPOINT=0.0.0.0:4317 \
    BURNWATCH_OTLP_HTTP_ENDPOINT=0.0.0.0:4318 \
    BURNWATCH_METRICS_ENDPOINT=0.0.0.0:9464
USER 65532:65532
# OTLP gRPC, OTLP HTTP, /metrics and the /api/v2 Alertmanager-compatible API.
EXPOSE 4317 4318 9464
# WAL, checkpoints and the alert history: mount a volume here, or a restart
# starts every window afresh.
VOLUME ["/var/lib/burnwatch"]
ENTRYPOINT ["/usr/bin/burnwatch"]
CMD ["--config=/etc/burnwatch/config.yaml"]
