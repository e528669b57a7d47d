# Rebound's container image: the binary only, on a distroless base, as non-root.
#
#   docker build -t rebound:0.1.0 .
#   docker run --rm -p 3000:3000 -e SLACK_BOT_TOKEN=… -e SLACK_SIGNING_SECRET=… \
#     -e DATABASE_URL=postgres://… rebound:0.1.0            # `serve` by default
#
# The build stage runs scripts/build-release.sh, the same script that builds
# the binary outside Docker, so both are the same binary: Rust only, SQLite
# compiled in, rustls for TLS; it links nothing but glibc and libgcc_s, which
# the distroless "cc" base provides with CA certificates and a nonroot user.
# Measured: binary 22.6 MB, so an image of about 45 MB (distroless/cc is
# about 22 MB); idle RSS 16.8 MiB (BENCHMARKS.md, "Ship it").

# The toolchain Cargo.toml's rust-version names.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY benches benches
COPY src src
COPY migrations migrations
COPY templates templates
COPY assets assets
# The Slack simulator of `rebound demo` compiles in Slack's method specs.
COPY tests/fixtures tests/fixtures
COPY scripts scripts
RUN scripts/build-release.sh /out/rebound

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/rebound /rebound
# Writable only where it must be: mount a volume for a SQLite database.
USER 65532:65532
EXPOSE 3000 3001
ENTRYPOINT ["/rebound"]
CMD ["serve"]
