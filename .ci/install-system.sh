#!/usr/bin/env bash
# System packages and services the real-component tests need (idempotent).
set -euo pipefail
need_apt=()
command -v node >/dev/null || need_apt+=(nodejs npm)
command -v npm >/dev/null || need_apt+=(npm)
command -v wrk >/dev/null || need_apt+=(wrk)  # benchmark load generator (smoke run in make test)
command -v valgrind >/dev/null || need_apt+=(valgrind)  # benchmarks' instruction counts (make bench)
# the patient hash as operators compute it (tests/unit/service/test_store_config.py)
command -v openssl >/dev/null || need_apt+=(openssl)
# The container test (tests/integration/test_container.py): build a Debian base, build and run the image.
command -v buildah >/dev/null || need_apt+=(buildah)
command -v mmdebstrap >/dev/null || need_apt+=(mmdebstrap)
# deploy/nginx.conf, run for real in front of two replicas (tests/integration/test_deploy_proxy.py)
command -v nginx >/dev/null || need_apt+=(nginx)
# promtool checks and unit-tests deploy/monitoring/alerts.yaml (tests/unit/deploy/test_monitoring.py)
command -v promtool >/dev/null || need_apt+=(prometheus)
# Headless Chromium for the page tests (tests/integration/test_pages_browser.py, Playwright drives it)
command -v chromium >/dev/null || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}"
fi
# The test FHIR server (Medplum 4.5) needs Node >= 20.19; the machines ship Node 20.
# Under CI=true an older Node stops here (exit 1): the FHIR server tests would fail anyway,
# later and less clearly. Locally it is a warning.
node -e 'const [a,b]=process.versions.node.split(".").map(Number);
  if (a<20||(a===20&&b<19)) {
    const ci = process.env.CI === "true";
    console.error((ci ? "error: " : "warning: ")+"node "+process.version+" < 20.19: the FHIR server tests will fail");
    if (ci) process.exit(1);
  }'
# PostgreSQL: the machine provides it; start it if it stopped.
if command -v pg_ctlcluster >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
