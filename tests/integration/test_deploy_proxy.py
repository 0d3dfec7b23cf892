"""The compose reference deployment's proxy for real: deploy/nginx.conf in front of two
replicas of the real server, over TLS, on loopback.

The file is used as committed except for what only compose provides (the replicas' host
names, the published ports, the certificate directory), which is rewritten to loopback
addresses and a temporary self-signed certificate. Mandatory under CI=true (nginx comes
from .ci/install-system.sh).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT, require
from tests.integration.test_gunicorn_server import Server, start_server, stop
from tests.ops_support import card_pairs, free_port, pick_scenario, shifted_request_body

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@dataclass
class Proxy:
    https: str
    http: str
    context: ssl.SSLContext
    replicas: list[Server]
    log_path: Path

    def call(self, path: str, body: object = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.https + path, data=data,
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.context) as answer:
                return answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


def nginx_version() -> tuple[int, ...]:
    banner = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", banner)
    return tuple(int(part) for part in match.groups()) if match else (0,)


def render(conf: str, tmp: Path, replicas: list[Server], https: int, http: int) -> str:
    """deploy/nginx.conf with compose's names and ports replaced by loopback ones."""
    for index, replica in enumerate(replicas, start=1):
        conf, count = re.subn(rf"\bcds-{index}:8080\b", replica.base.removeprefix("http://"),
                              conf)
        assert count == 1, f"cds-{index} not in nginx.conf"
    conf = conf.replace("listen 8443 ssl;", f"listen 127.0.0.1:{https} ssl;")
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{http};")
    conf = conf.replace("/etc/nginx/certs/", f"{tmp}/certs/")
    conf = conf.replace("pid /tmp/nginx.pid;", f"pid {tmp}/nginx.pid;")
    if nginx_version() < (1, 25, 1):  # `http2 on;` is newer than Debian 12's nginx
        conf = conf.replace("http2 on;", "")
    return conf


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    require(Path(NGINX).exists(), "nginx (.ci/install-system.sh)")
    tmp = tmp_path_factory.mktemp("proxy")
    (tmp / "certs").mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(tmp / "certs" / "tls.key"),
                    "-out", str(tmp / "certs" / "tls.crt")],
                   check=True, capture_output=True, timeout=60)
    replicas = [start_server(tmp, workers=1, name=f"cds-{n}") for n in (1, 2)]
    https, http = free_port(), free_port()
    (tmp / "nginx.conf").write_text(render((ROOT / "deploy" / "nginx.conf").read_text(),
                                           tmp, replicas, https, http))
    log_path = tmp / "nginx.log"
    with log_path.open("w") as log_file:
        nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"),
                                  "-e", "stderr", "-g", "daemon off;"],
                                 stdout=log_file, stderr=subprocess.STDOUT)
    context = ssl.create_default_context(cafile=str(tmp / "certs" / "tls.crt"))
    running = Proxy(f"https://127.0.0.1:{https}", f"http://127.0.0.1:{http}", context,
                    replicas, log_path)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert nginx.poll() is None, log_path.read_text()
        try:
            running.call("/healthz")
            break
        except OSError:
            time.sleep(0.2)
    yield running
    nginx.send_signal(signal.SIGQUIT)  # nginx's graceful stop
    nginx.wait(timeout=30)
    for replica in replicas:
        stop(replica)


def logged_request_ids(proxy: Proxy) -> set[str]:
    """The request ids on the replicas' JSON log lines."""
    lines = "".join(replica.log() for replica in proxy.replicas).splitlines()
    return {json.loads(line).get("request_id") for line in lines if line.startswith("{")}


def test_discovery_over_tls_with_a_request_id_from_the_proxy(proxy: Proxy) -> None:
    status, headers, body = proxy.call("/cds-services")
    assert status == 200
    assert len(json.loads(body)["services"]) == 4
    request_id = headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, echoed
    time.sleep(0.3)
    assert request_id in logged_request_ids(proxy)  # one id from proxy to replica log


def test_the_ehrs_request_id_and_trace_context_pass_through(proxy: Proxy) -> None:
    """The EHR's X-Request-ID is not replaced by the proxy's: one id from the EHR's log to
    the replica's; traceparent reaches the replica too (its spans join the EHR's trace)."""
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    status, headers, _ = proxy.call("/cds-services", headers={
        "X-Request-ID": "ehr-call-20261202-0001", "traceparent": traceparent})
    assert status == 200 and headers["X-Request-ID"] == "ehr-call-20261202-0001"
    time.sleep(0.3)
    assert "ehr-call-20261202-0001" in logged_request_ids(proxy)
    assert f'"traceparent":"{traceparent}"' in proxy.log_path.read_text()  # nginx's log


def test_calls_are_spread_over_both_replicas(proxy: Proxy) -> None:
    ids = [proxy.call("/cds-services")[1]["X-Request-ID"] for _ in range(6)]
    time.sleep(0.3)
    served = [sum(rid in replica.log() for rid in ids) for replica in proxy.replicas]
    assert sum(served) == 6 and all(count > 0 for count in served), served


def test_a_sample_hook_through_the_proxy(proxy: Proxy) -> None:
    scenario = pick_scenario()
    status, _, body = proxy.call(f"/cds-services/back-pain-{scenario.hook}",
                                 shifted_request_body(scenario, datetime.now(UTC)))
    assert status == 200, body[:300]
    assert card_pairs(json.loads(body)["cards"]) == set(scenario.expected)


def test_metrics_are_not_published_through_the_proxy(proxy: Proxy) -> None:
    assert proxy.call("/metrics")[0] == 404


def test_plain_http_is_redirected_to_https(proxy: Proxy) -> None:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(proxy.http + "/cds-services", timeout=10)
    assert answer.value.code == 301
    assert answer.value.headers["Location"].startswith("https://")


def test_proxy_log_has_no_query_strings(proxy: Proxy) -> None:
    proxy.call("/cds-services?patient=pat-55120")
    time.sleep(0.3)
    log = proxy.log_path.read_text()
    assert '"path":"/cds-services"' in log
    assert "pat-55120" not in log


def test_one_replica_down_the_other_serves(proxy: Proxy) -> None:
    """Last: stops a replica. The proxy retries the next one; no call fails."""
    stop(proxy.replicas[0])
    statuses = [proxy.call("/cds-services")[0] for _ in range(6)]
    assert statuses == [200] * 6
