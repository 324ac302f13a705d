# syntax=docker/dockerfile:1
#
# handoff's container image: a static binary on distroless, running as
# nonroot (65532), with SQLite under the /data volume.
#
#   docker build -t handoff .
#   docker run -d --name handoff -p 8080:8080 -v handoff-data:/data \
#     -e HANDOFF_BASE_URL=https://chat.example.com handoff
#
# Secrets are best given as files (HANDOFF_SESSION_KEYS_FILE=/run/secrets/…
# and the other *_FILE settings): see "Deploy" in the README.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
ENV GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/handoff . \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/handoff /usr/local/bin/handoff
COPY handoff.yaml /etc/handoff/handoff.yaml
# An empty /data owned by nonroot: a new named volume takes its owner.
COPY --from=build --chown=65532:65532 /out/data /data
ENV HANDOFF_ADDR=0.0.0.0:8080 \
    HANDOFF_DATA_DIR=/data \
    HANDOFF_CONFIG=/etc/handoff/handoff.yaml
VOLUME /data
EXPOSE 8080
USER 65532:65532
# distroless has no curl or wget: the binary probes itself (GET /healthz
# on 127.0.0.1 at HANDOFF_ADDR's port, 2 s).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["/usr/local/bin/handoff", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/handoff"]
