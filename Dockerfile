# backpain-cds container image: gunicorn serving the CDS Hooks service on port 8080.
#
#   docker build -t backpain-cds .
#   buildah bud --build-arg BASE=localhost/backpain-base \
#     -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro .
#
# Reproducible: the base is pinned by digest, every Python package comes from
# requirements.lock with its hashes (pip --require-hashes; regenerate with `make lock`),
# and so do the build tools (deploy/image/build-tools.lock). The build writes a CycloneDX
# SBOM of the installed packages into the image: /opt/backpain-cds/sbom.cdx.json.
#
# Python 3.11 (Debian bookworm's): the lock is resolved for it, and CI builds and runs the
# image on an mmdebstrap bookworm base with the same Python (.ci/container-test.sh).
# BASE may be any Debian-like image with python3 3.11 and its venv module. The digest
# below is python:3.11-slim-bookworm as published on Docker Hub (taken from public
# references: re-pin with `docker buildx imagetools inspect python:3.11-slim-bookworm`).
# The image is configured only through BACKPAIN_CDS_* variables (README "Configuration");
# migrations run with
#   docker run --rm -e BACKPAIN_CDS_DATABASE_URL=... IMAGE db upgrade
ARG BASE=python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

# ---------------------------------------------------------------- build: venv from the lock
FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Build tools in their own venv, never shipped: setuptools/wheel, cyclonedx-bom.
COPY deploy/image/build-tools.lock ./
RUN python3 -m venv /opt/tools \
 && /opt/tools/bin/pip install --no-deps --require-hashes --requirement build-tools.lock
# Dependencies first, from the lock alone, so that this layer is reused while only the
# source changes.
COPY requirements.lock ./
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-deps --require-hashes --requirement requirements.lock
COPY pyproject.toml README.md ./
COPY service ./service
COPY cds_rules ./cds_rules
COPY fhir_samples ./fhir_samples
RUN /opt/tools/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
 && /opt/venv/bin/pip install --no-index --no-deps /wheels/backpain_cds-*.whl \
 && /opt/venv/bin/pip check \
 && /opt/venv/bin/python -m pip uninstall --yes --quiet pip setuptools \
 && mkdir -p /opt/backpain-cds \
 && /opt/tools/bin/cyclonedx-py environment --pyproject pyproject.toml --of JSON \
      --output-reproducible -o /opt/backpain-cds/sbom.cdx.json /opt/venv/bin/python

# ---------------------------------------------------------------- runtime
FROM ${BASE} AS runtime
ARG UID=10001
LABEL org.opencontainers.image.title="backpain-cds" \
      org.opencontainers.image.description="CDS Hooks 2.0.1 service: back pain with leg symptoms" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.backpain-cds.sbom="/opt/backpain-cds/sbom.cdx.json"
# A fixed numeric uid/gid so that Kubernetes' runAsNonRoot can verify it; no home, no shell.
RUN groupadd --gid "${UID}" backpain \
 && useradd --uid "${UID}" --gid "${UID}" --no-create-home \
            --home-dir /nonexistent --shell /usr/sbin/nologin backpain \
 && install -d -o "${UID}" -g "${UID}" -m 0750 /var/lib/backpain-cds
COPY --from=build /opt/venv /opt/venv
# The SBOM of exactly what is installed, kept with the image.
COPY --from=build /opt/backpain-cds/sbom.cdx.json /opt/backpain-cds/sbom.cdx.json
WORKDIR /app
COPY gunicorn.conf.py /app/gunicorn.conf.py
# The embedded SQLite default lives in a writable volume; production sets a PostgreSQL URL.
# gunicorn.conf.py binds 0.0.0.0:$PORT.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BACKPAIN_CDS_DATABASE_URL=sqlite:////var/lib/backpain-cds/backpain-cds.sqlite3 \
    PORT=8080
VOLUME ["/var/lib/backpain-cds"]
USER ${UID}:${UID}
EXPOSE 8080
# No curl in a slim image: the standard library asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4).status == 200 else 1)"]
# `backpain-cds serve` validates BACKPAIN_CDS_* (exit status 2 naming a bad variable), then
# runs gunicorn in this process (PID 1, so SIGTERM reaches it) with /app/gunicorn.conf.py:
# workers, preload + warm-up, timeouts, JSON logs. Other subcommands run the same way, e.g.
# `db upgrade`. Any gunicorn setting can be changed through GUNICORN_CMD_ARGS.
ENTRYPOINT ["backpain-cds"]
CMD ["serve"]
