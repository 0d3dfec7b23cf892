"""The reference deployments in deploy/: valid, consistent with the image and the app.

Kubernetes manifests are checked against the API schemas of recent releases with
kubernetes-validate (strict: unknown fields are errors). The compose file is parsed as
compose parses it (YAML anchors and merge keys) and every file it mounts or builds from
must exist. Both must configure only variables the service knows, with values it accepts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from service.config import PREFIX, load_settings
from service.trust.clients import load_trusted_clients
from tests.conftest import ROOT
from tests.helpers import make_test_app

DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"
MANIFESTS = sorted(p for p in KUBE.glob("*.yaml") if p.name != "kustomization.yaml")
K8S_VERSIONS = ("1.31.0", "1.33.0", kubernetes_validate.latest_version())


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def resources() -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc
            for path in MANIFESTS for doc in documents(path)}


def dockerfile_instruction(name: str) -> str:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    return re.findall(rf"^{name}\s+(.+)$", text, re.MULTILINE)[-1].strip()


# ------------------------------------------------------------------ Kubernetes
@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_valid_for_kubernetes(path: Path, version: str) -> None:
    for doc in documents(path):
        kubernetes_validate.validate(doc, version, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = documents(KUBE / "kustomization.yaml")[0]
    assert sorted(kustomization["resources"]) == [p.name for p in MANIFESTS]


def test_all_required_kinds_are_present_and_no_secret() -> None:
    """The Secret is created by hand (deploy/README.md): ``kubectl apply -k`` must never
    overwrite the real one with a placeholder."""
    kinds = {kind for kind, _ in resources()}
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
            "ConfigMap", "CronJob", "NetworkPolicy"} <= kinds
    assert "Secret" not in kinds


def deployment() -> dict[str, Any]:
    return resources()[("Deployment", "backpain-cds")]


def purge_job() -> dict[str, Any]:
    return resources()[("CronJob", "backpain-cds-purge")]


def pod_specs() -> list[dict[str, Any]]:
    return [deployment()["spec"]["template"]["spec"],
            purge_job()["spec"]["jobTemplate"]["spec"]["template"]["spec"]]


@pytest.mark.parametrize("which", [0, 1], ids=["deployment", "purge-cronjob"])
def test_pods_run_non_root_on_a_read_only_root_filesystem(which: int) -> None:
    pod = pod_specs()[which]
    assert pod["securityContext"]["runAsNonRoot"] is True
    uid = re.search(r"^ARG UID=(\d+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert uid and str(pod["securityContext"]["runAsUser"]) == uid.group(1)
    for container in pod["containers"] + pod.get("initContainers", []):
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["requests"] and container["resources"]["limits"]
        # the image writes only to /tmp (metrics files): it must be a writable volume
        assert "/tmp" in {mount["mountPath"] for mount in container["volumeMounts"]}


def test_probes_ask_the_apps_real_endpoints_on_the_exposed_port() -> None:
    container = deployment()["spec"]["template"]["spec"]["containers"][0]
    assert dockerfile_instruction("EXPOSE") == str(container["ports"][0]["containerPort"])
    routes = {rule.rule for rule in make_test_app().url_map.iter_rules()}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] in routes
        assert container[probe]["httpGet"]["port"] == container["ports"][0]["name"]


def test_grace_period_covers_prestop_and_gunicorn_graceful_timeout() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    # read, not run: running gunicorn.conf.py would switch this process's metrics mode
    graceful = re.search(r"^graceful_timeout = (\d+)", (ROOT / "gunicorn.conf.py").read_text(),
                         re.MULTILINE)
    assert graceful and pre_stop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] > int(pre_stop[1]) + int(graceful.group(1))


def secret_keys_in_readme() -> set[str]:
    """The keys of the documented ``kubectl create secret generic backpain-cds-secret``."""
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    command = re.search(r"kubectl create secret generic backpain-cds-secret(.*?)\n\n", text,
                        re.S)
    assert command, "deploy/README.md lost the kubectl create secret command"
    return set(re.findall(r"--from-(?:file|literal)=([a-z-]+)=", command.group(1)))


def test_configmap_holds_only_valid_settings_and_secrets_come_from_the_secret_files(
        tmp_path: Path) -> None:
    found = resources()
    env = dict(found[("ConfigMap", "backpain-cds-env")]["data"])
    assert all(key.startswith(PREFIX) for key in env)
    secret_files = {k: Path(v) for k, v in env.items()
                    if k.endswith("_FILE") and v.startswith("/run/secrets/")}
    assert set(secret_files) == {f"{PREFIX}DATABASE_URL_FILE", f"{PREFIX}PATIENT_HASH_KEY_FILE"}
    assert {path.name for path in secret_files.values()} == secret_keys_in_readme()
    for pod in pod_specs():  # both mount the Secret where the variables point
        mounts = {m["mountPath"]: m["name"] for c in pod["containers"] for m in
                  c["volumeMounts"]}
        volume = next(v for v in pod["volumes"] if v.get("secret"))
        assert volume["secret"]["secretName"] == "backpain-cds-secret"
        for path in secret_files.values():
            assert mounts[str(path.parent)] == volume["name"]
    # as the pod reads them: the files hold a real URL and a strong key
    (tmp_path / "database-url").write_text("postgresql+psycopg://backpain:pw@db:5432/backpain\n")
    (tmp_path / "patient-hash-key").write_text("0f1e2d3c4b5a69788796a5b4c3d2e1f0" * 2 + "\n")
    env.update({k: str(tmp_path / v.name) for k, v in secret_files.items()})
    settings = load_settings(env)  # raises on an unknown variable or a bad value
    assert settings.database_url.startswith("postgresql+psycopg://")
    files = found[("ConfigMap", "backpain-cds-files")]["data"]
    mounted = Path(settings.trusted_clients_file)
    assert mounted.parent == Path("/etc/backpain-cds") and mounted.name in files
    assert "*" not in settings.effective_cors_origins()  # CORS narrowed in production


def test_the_purge_cronjob_runs_db_purge_daily_on_the_service_image() -> None:
    job = purge_job()["spec"]
    container = job["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["db", "purge"]
    assert container["image"] == deployment()["spec"]["template"]["spec"]["containers"][0][
        "image"]
    minute, hour, *every_day = job["schedule"].split()
    assert every_day == ["*", "*", "*"] and minute.isdigit() and hour.isdigit()
    assert job["concurrencyPolicy"] == "Forbid"


def test_the_network_policy_covers_both_workloads_and_the_service_port() -> None:
    policy = resources()[("NetworkPolicy", "backpain-cds")]["spec"]
    selected = set(policy["podSelector"]["matchExpressions"][0]["values"])
    for pod_labels in (deployment()["spec"]["template"]["metadata"]["labels"],
                       purge_job()["spec"]["jobTemplate"]["spec"]["template"]["metadata"][
                           "labels"]):
        assert pod_labels["app.kubernetes.io/name"] in selected
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert all(port["port"] == "http" for rule in policy["ingress"] for port in rule["ports"])
    egress_ports = {port["port"] for rule in policy["egress"] for port in rule["ports"]}
    assert {53, 5432, 443} <= egress_ports


def test_trusted_clients_examples_load(tmp_path: Path) -> None:
    files = resources()[("ConfigMap", "backpain-cds-files")]["data"]
    (tmp_path / "trusted-clients.json").write_text(files["trusted-clients.json"])
    assert load_trusted_clients(tmp_path / "trusted-clients.json")
    assert load_trusted_clients(DEPLOY / "trusted-clients.json")


def test_service_hpa_and_pdb_point_at_the_deployment() -> None:
    found = resources()
    labels = deployment()["spec"]["template"]["metadata"]["labels"]
    assert found[("Service", "backpain-cds")]["spec"]["selector"].items() <= labels.items()
    pdb = found[("PodDisruptionBudget", "backpain-cds")]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    target = found[("HorizontalPodAutoscaler", "backpain-cds")]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "backpain-cds")
    assert found[("HorizontalPodAutoscaler", "backpain-cds")]["spec"]["minReplicas"] >= 2


# ------------------------------------------------------------------ compose
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8")))


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} with ``variables``."""
    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3) or ""
        if variables.get(name):
            return variables[name]
        if op == ":?":
            raise KeyError(f"{name}: {rest}")
        return rest if op == ":-" else ""
    return re.sub(r"\$\{([A-Z_]+)(?:(:[-?])([^}]*))?\}", one, value)


def test_compose_runs_two_replicas_a_database_a_migration_and_a_tls_proxy() -> None:
    services = compose()["services"]
    replicas = [name for name, svc in services.items()
                if svc.get("image") == "backpain-cds:local" and "command" not in svc]
    assert len(replicas) == 2
    assert services["migrate"]["command"] == ["db", "upgrade"]
    for name in replicas:
        assert services[name]["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully"
    assert services["db"]["image"].startswith("postgres:")
    assert "443:8443" in services["proxy"]["ports"]


def test_compose_references_only_files_that_exist() -> None:
    doc = compose()
    for name, service in doc["services"].items():
        build = service.get("build")
        if build:
            context = (DEPLOY / build["context"]).resolve()
            assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in doc.get("volumes", {}), f"{name}: undeclared volume {source}"


def test_compose_configures_only_valid_settings() -> None:
    variables = {"POSTGRES_PASSWORD": "pw", "PATIENT_HASH_KEY": "0f1e2d3c4b5a6978" * 4,
                 "PUBLIC_BASE_URL": "https://cds.hospital.example"}
    service = compose()["services"]["cds-1"]
    env = {key: interpolate(str(value), variables) for key, value in
           service["environment"].items()}
    settings = load_settings(env)
    assert settings.database_url.startswith("postgresql+psycopg://")
    with pytest.raises(KeyError, match="PATIENT_HASH_KEY"):  # refuses to start without it
        interpolate(str(service["environment"]["BACKPAIN_CDS_PATIENT_HASH_KEY"]), {})
    proxy_ip = compose()["services"]["proxy"]["networks"]["backend"]["ipv4_address"]
    assert settings.trusted_proxies == (proxy_ip,)


def test_nginx_sends_traffic_to_both_replicas_and_terminates_tls() -> None:
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    replicas = {name for name in compose()["services"] if name.startswith("cds-")}
    upstreams = set(re.findall(r"^\s*server\s+([\w-]+):8080\b", conf, re.MULTILINE))
    assert upstreams == replicas
    assert re.search(r"listen 8443 ssl;", conf)
    assert "$request " not in conf and "$request_uri\"" not in conf  # no query in logs
