# Tollgate's container image, built from source: no binary is downloaded (Trunk and
# wasm-bindgen-cli are compiled from crates.io by scripts/install-tools.sh). CI runs the
# same two scripts outside Docker (scripts/check-image-steps.sh), so this recipe cannot
# rot unnoticed.

FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN rustup target add wasm32-unknown-unknown
# Tools first, keyed on the lock file only, so source changes reuse this layer.
COPY Cargo.toml Cargo.lock Trunk.toml ./
COPY scripts/install-tools.sh scripts/
RUN scripts/install-tools.sh
COPY . .
RUN scripts/build.sh release \
 && mkdir -p /out \
 && cp target/release/tollgate /out/ \
 && cp -r dist /out/dist

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/tollgate --uid 10001 tollgate
COPY --from=build /out/tollgate /usr/local/bin/tollgate
COPY --from=build /out/dist /usr/share/tollgate/dist
COPY server/pipelines /usr/share/tollgate/pipelines
USER tollgate
WORKDIR /var/lib/tollgate
ENV TOLLGATE_BIND=0.0.0.0:3000 \
    TOLLGATE_DATA_DIR=/var/lib/tollgate/data \
    TOLLGATE_DIST=/usr/share/tollgate/dist \
    TOLLGATE_LOG_FORMAT=json
# The data directory holds the SQLite file (when no DATABASE_URL is set) and every
# run's workspace; with several replicas it must be one shared volume.
VOLUME ["/var/lib/tollgate/data"]
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/healthz || exit 1
ENTRYPOINT ["tollgate"]
