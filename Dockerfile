# syntax=docker/dockerfile:1
#
# leakscan container image (issue 13 item 4).
#
#   docker build -t leakscan:0.1.0 .                                  # default: runtime with git
#   docker build --target runtime-distroless -t leakscan:0.1.0-local . # no git, no shell
#   docker run --rm -v "$PWD:/scan:ro" leakscan:0.1.0 git /scan
#
# Two runtimes, because cloning is the trade-off: `leakscan git` with clone URLs in --repos
# runs the `git` binary (plus ssh for ssh:// URLs), and no distroless image ships git. The
# default target is Debian slim with git, openssh-client and CA certificates, running as an
# unprivileged user; it still has /bin/sh (Debian's essential packages), which leakscan never
# runs. `runtime-distroless` has neither shell nor git and suits local scans only
# (`leakscan scan`, `leakscan git` of mounted repositories, `leakscan merge`, `leakscan audit`).
# Both run as uid/gid 65532, the uid deploy/kubernetes/ runs as.
#
# Base images are referenced by tag; pin them by digest in your registry mirror.

ARG RUST_VERSION=1.88
ARG DEBIAN_RELEASE=bookworm

# ---- builder: the release binary, built from this checkout with Cargo.lock as is ----------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS builder
WORKDIR /src
COPY . .
# The caches keep the registry and the target dir between builds; the binary is copied out
# of the cached target dir within the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p scanner-cli --bin leakscan \
    && install -D -m 0755 target/release/leakscan /out/leakscan

# ---- runtime-distroless: no shell, no git; local repositories and files only ---------------
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime-distroless
COPY --from=builder /out/leakscan /usr/local/bin/leakscan
USER 65532:65532
WORKDIR /scan
ENTRYPOINT ["/usr/local/bin/leakscan"]
CMD ["--help"]

# ---- runtime (default target): git for clone URLs, non-root -------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates git openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 leakscan \
    && useradd --uid 65532 --gid 65532 --home-dir /tmp --no-create-home \
        --shell /usr/sbin/nologin leakscan
COPY --from=builder /out/leakscan /usr/local/bin/leakscan
# HOME and TMPDIR on /tmp: with a read-only root filesystem (deploy/kubernetes) an emptyDir
# is mounted there for the temporary clones.
ENV HOME=/tmp TMPDIR=/tmp GIT_TERMINAL_PROMPT=0
USER 65532:65532
WORKDIR /scan
ENTRYPOINT ["/usr/local/bin/leakscan"]
CMD ["--help"]
