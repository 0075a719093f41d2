# Multi-stage build: libpq is built from source into the binary (pq-sys "bundled"), so the
# runtime image needs only OpenSSL and CA certificates. Run it with DATABASE_URL pointing at
# your PostgreSQL (the embedded database needs PostgreSQL's binaries, which this image omits).
FROM rust:1.95-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends pkg-config libssl-dev gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs diesel.toml ./
COPY src ./src
COPY migrations ./migrations
COPY openapi ./openapi
COPY tests ./tests
RUN cargo build --release --locked --bin hearth

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/hearth --create-home hearth
COPY --from=build /src/target/release/hearth /usr/local/bin/hearth
USER hearth
WORKDIR /var/lib/hearth
ENV HEARTH_BIND=0.0.0.0:8080 HEARTH_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["hearth"]
CMD ["serve"]
