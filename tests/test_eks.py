"""``meshstack:kubernetes.eks``: the model, the kubeconfig render, the lookup against moto's EKS API
(a moto server on 127.0.0.1), the program's provider, the ``aws eks get-token`` exec user run as
kubectl runs it, and kubectl itself reading the kubeconfig and authenticating with it."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from moto.eks.models import eks_backends
from moto.server import ThreadedMotoServer
from pulumi.errors import RunError

from meshstack._sdk.mocks import is_secret, unwrap_secret
from meshstack.errors import ConfigError
from meshstack.model.kubernetes import EksCluster, KubernetesConfig
from meshstack.model.stack import StackSpec
from meshstack.render.kubeconfig import EXEC_API_VERSION, eks_kubeconfig
from meshstack.stacks import eks
from meshstack.stacks.config import load_stack_spec
from meshstack.stacks.program import main
from meshstack.testing import Recording, run
from tests.validators import tool

REGION = "eu-west-1"
CLUSTER = "mesh-prod"
ACCOUNT = "123456789012"  # moto's default account
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/meshstack-deployer"
#: The static keys of the ambient identity, and of the ``deployer`` profile in the AWS config.
AMBIENT_KEY = "AKIAAMBIENTTESTKEY00"
PROFILE_KEY = "AKIAPROFILETESTKEY00"
#: The directory holding the ``aws`` of this virtualenv, which the exec user runs.
VENV_BIN = str(Path(sys.executable).parent)

AWS_VARIABLES = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL_EKS",
    "AWS_ENDPOINT_URL_STS",
    "AWS_DEFAULT_OUTPUT",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "KUBECONFIG",
]


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server (EKS, STS) on 127.0.0.1 with one ACTIVE cluster, ``mesh-prod`` in eu-west-1."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        client = boto3.client(
            "eks",
            region_name=REGION,
            endpoint_url=url,
            aws_access_key_id=AMBIENT_KEY,
            aws_secret_access_key="ambient-secret",
        )
        client.create_cluster(name=CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig={})
        yield url
    finally:
        server.stop()


@pytest.fixture
def aws(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a pipeline whose AWS endpoint is the moto server: static keys in the
    environment, an AWS config file with a ``deployer`` profile of other keys, no other AWS setting
    (and no instance metadata to fall back on)."""
    config = tmp_path / "aws-config"
    config.write_text(
        f"[profile deployer]\naws_access_key_id = {PROFILE_KEY}\naws_secret_access_key = profile-secret\n"
    )
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    values = {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": AMBIENT_KEY,
        "AWS_SECRET_ACCESS_KEY": "ambient-secret",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def described(moto_url: str, name: str = CLUSTER, region: str = REGION) -> dict[str, Any]:
    client = boto3.client(
        "eks", region_name=region, endpoint_url=moto_url, aws_access_key_id="x", aws_secret_access_key="x"
    )
    cluster: dict[str, Any] = client.describe_cluster(name=name)["cluster"]
    return cluster


def eks_stack(eks_config: Mapping[str, Any], **kubernetes: Any) -> Recording:
    """The real program of a dev stack whose ``meshstack:kubernetes`` is ``{eks: eks_config, …}``."""
    return run(
        main,
        config={"meshstack:environment": "dev", "meshstack:kubernetes": {"eks": dict(eks_config), **kubernetes}},
    )


def provider_kubeconfig(rec: Recording) -> dict[str, Any]:
    provider = rec.one(type="pulumi:providers:kubernetes", name="k8s")
    raw = provider.inputs["kubeconfig"]
    text = unwrap_secret(raw) if is_secret(raw) else raw
    assert isinstance(text, str)
    doc: dict[str, Any] = yaml.safe_load(text)
    return doc


def exec_credential(kubeconfig: Mapping[str, Any]) -> dict[str, Any]:
    """Run the kubeconfig's exec user the way client-go (kubectl, the Pulumi provider) does: its
    command looked up on PATH, its args, its env over the process environment, and
    KUBERNETES_EXEC_INFO announcing the apiVersion; the ExecCredential it prints."""
    [user] = kubeconfig["users"]
    spec = user["user"]["exec"]
    env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", "")}
    env.update({item["name"]: item["value"] for item in spec.get("env") or []})
    env["KUBERNETES_EXEC_INFO"] = json.dumps(
        {"kind": "ExecCredential", "apiVersion": spec["apiVersion"], "spec": {"interactive": False}}
    )
    command = shutil.which(spec["command"], path=env["PATH"])
    assert command is not None, f"{spec['command']} is not on PATH"
    done = subprocess.run(
        [command, *spec["args"]],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    credential: dict[str, Any] = json.loads(done.stdout)
    return credential


def presigned_url(token: str) -> tuple[str, dict[str, list[str]]]:
    """The STS GetCallerIdentity URL an EKS token carries, and its query."""
    assert token.startswith("k8s-aws-v1.")
    encoded = token[len("k8s-aws-v1.") :]
    url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    return url, parse_qs(urlsplit(url).query)


# --- the model -----------------------------------------------------------------------------------


def test_typed_python_spec_equals_the_one_from_stack_config() -> None:
    from_config = load_stack_spec(
        {
            "environment": "prod",
            "kubernetes": {"eks": {"cluster": CLUSTER, "region": REGION, "roleArn": DEPLOYER, "profile": "deployer"}},
        }
    )
    typed = StackSpec.for_environment(
        "prod",
        kubernetes=KubernetesConfig(
            eks=EksCluster(cluster=CLUSTER, region=REGION, role_arn=DEPLOYER, profile="deployer")
        ),
    )
    assert typed == from_config
    assert from_config.kubernetes.eks is not None
    assert from_config.kubernetes.eks.role_arn == DEPLOYER
    assert typed.kubernetes.to_config() == {
        "eks": {"cluster": CLUSTER, "region": REGION, "roleArn": DEPLOYER, "profile": "deployer"},
        "deleteUnreachable": False,
    }


@pytest.mark.parametrize(
    "region",
    ["us-east-1", "eu-central-2", "ap-southeast-7", "us-gov-west-1", "cn-north-1", "us-isob-east-1", "il-central-1"],
)
def test_model_accepts_aws_region_names(region: str) -> None:
    assert EksCluster(cluster="a_cluster-1", region=region).region == region


@pytest.mark.parametrize(
    ("kubernetes", "expected"),
    [
        (
            {"kubeconfig": "/etc/kube/config", "eks": {"cluster": CLUSTER, "region": REGION}},
            [("kubernetes.eks", "eks and kubeconfig are both set")],
        ),
        (
            {"context": "prod", "eks": {"cluster": CLUSTER, "region": REGION}},
            [("kubernetes.eks", "eks and context are both set")],
        ),
        ({"eks": {"cluster": CLUSTER, "region": "EU-West-1"}}, [("kubernetes.eks.region", "an AWS region name")]),
        ({"eks": {"cluster": CLUSTER, "region": "eu-west"}}, [("kubernetes.eks.region", "an AWS region name")]),
        ({"eks": {"cluster": "", "region": REGION}}, [("kubernetes.eks.cluster", "an EKS cluster name")]),
        ({"eks": {"cluster": "mesh.prod", "region": REGION}}, [("kubernetes.eks.cluster", "an EKS cluster name")]),
        ({"eks": {"cluster": "x" * 101, "region": REGION}}, [("kubernetes.eks.cluster", "an EKS cluster name")]),
        ({"eks": {"region": REGION}}, [("kubernetes.eks.cluster", "required")]),
        (
            {"eks": {"cluster": CLUSTER, "region": REGION, "roleArn": "arn:aws:iam::12:role/x"}},
            [("kubernetes.eks.roleArn", "an IAM role ARN")],
        ),
        (
            {"eks": {"cluster": CLUSTER, "region": REGION, "profile": "two words"}},
            [("kubernetes.eks.profile", "an AWS config profile name")],
        ),
        (
            {"eks": {"cluster": CLUSTER, "region": REGION, "endpoint": "https://x"}},
            [("kubernetes.eks.endpoint", "unknown key")],
        ),
    ],
)
def test_model_rejects_with_config_paths(kubernetes: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    with pytest.raises(ConfigError) as caught:
        load_stack_spec({"environment": "dev", "kubernetes": kubernetes})
    assert caught.value.paths == [path for path, _ in expected]
    for problem, (_, message) in zip(caught.value.problems, expected, strict=True):
        assert message in problem.message
    assert str(caught.value).count("meshstack:kubernetes.") == len(expected)


def test_model_rejects_both_sources_in_python_naming_both_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        StackSpec.for_environment(
            "dev",
            kubernetes=KubernetesConfig(
                kubeconfig="~/.kube/config", context="prod", eks=EksCluster(cluster=CLUSTER, region=REGION)
            ),
        )
    assert caught.value.paths == ["eks", "eks"]  # KubernetesConfig(...) refuses itself
    messages = sorted(p.message for p in caught.value.problems)
    assert messages[0].startswith("eks and context are both set")
    assert messages[1].startswith("eks and kubeconfig are both set")
    with pytest.raises(ConfigError) as caught:
        EksCluster(cluster="-mesh", region="us-east-1x")
    assert caught.value.paths == ["cluster", "region"]


# --- the render ----------------------------------------------------------------------------------


def test_render_builds_one_cluster_context_and_exec_user() -> None:
    arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
    spec = EksCluster(cluster=CLUSTER, region=REGION, role_arn=DEPLOYER, profile="deployer")
    doc = eks_kubeconfig(spec, arn=arn, endpoint="https://ABC.gr7.eu-west-1.eks.amazonaws.com", ca_data="Q0E=")
    assert doc["apiVersion"] == "v1"
    assert doc["kind"] == "Config"
    assert doc["current-context"] == arn
    assert doc["clusters"] == [
        {
            "name": arn,
            "cluster": {"server": "https://ABC.gr7.eu-west-1.eks.amazonaws.com", "certificate-authority-data": "Q0E="},
        }
    ]
    assert doc["contexts"] == [{"name": arn, "context": {"cluster": arn, "user": arn}}]
    [user] = doc["users"]
    assert user["name"] == arn
    exec_user = user["user"]["exec"]
    assert exec_user["apiVersion"] == EXEC_API_VERSION == "client.authentication.k8s.io/v1beta1"
    assert exec_user["command"] == "aws"
    assert exec_user["args"] == [
        "eks", "get-token", "--cluster-name", CLUSTER, "--region", REGION,
        "--role-arn", DEPLOYER, "--profile", "deployer", "--output", "json",
    ]  # fmt: skip
    assert exec_user["env"] == [{"name": "AWS_PROFILE", "value": "deployer"}]
    assert exec_user["interactiveMode"] == "Never"

    plain = eks_kubeconfig(EksCluster(cluster=CLUSTER, region=REGION), arn=arn, endpoint="https://e", ca_data="Q0E=")
    plain_exec = plain["users"][0]["user"]["exec"]
    assert plain_exec["args"] == ["eks", "get-token", "--cluster-name", CLUSTER, "--region", REGION, "--output", "json"]
    assert "env" not in plain_exec


# --- the program under mocks, against moto's EKS --------------------------------------------------


def test_program_gives_the_provider_the_clusters_kubeconfig(aws: dict[str, str], moto_url: str) -> None:
    cluster = described(moto_url)
    rec = eks_stack({"cluster": CLUSTER, "region": REGION, "roleArn": DEPLOYER})
    kubeconfig = provider_kubeconfig(rec)
    provider = rec.one(type="pulumi:providers:kubernetes", name="k8s")
    assert "context" not in provider.inputs
    arn = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
    assert cluster["arn"] == arn
    assert kubeconfig["current-context"] == arn
    [entry] = kubeconfig["clusters"]
    assert entry["cluster"]["server"] == cluster["endpoint"]
    assert entry["cluster"]["server"].startswith("https://")
    assert entry["cluster"]["certificate-authority-data"] == cluster["certificateAuthority"]["data"]
    exec_user = kubeconfig["users"][0]["user"]["exec"]
    assert exec_user["command"] == "aws"
    assert exec_user["args"] == [
        "eks", "get-token", "--cluster-name", CLUSTER, "--region", REGION, "--role-arn", DEPLOYER, "--output", "json",
    ]  # fmt: skip
    # Every Kubernetes object of the stack goes through this provider.
    objects = rec.kubernetes_objects + rec.helm_charts
    assert objects
    assert {r.provider.rsplit("::", 1)[0] if r.provider else None for r in objects} == {provider.urn}


def test_the_exec_user_prints_an_eks_token_as_kubectl_would_run_it(aws: dict[str, str], moto_url: str) -> None:
    kubeconfig = yaml.safe_load(eks.kubeconfig(EksCluster(cluster=CLUSTER, region=REGION)))
    credential = exec_credential(kubeconfig)
    assert credential["kind"] == "ExecCredential"
    assert credential["apiVersion"] == EXEC_API_VERSION
    token = credential["status"]["token"]
    url, query = presigned_url(token)
    assert url.startswith(moto_url + "/")  # signed for the STS endpoint the environment names
    assert query["Action"] == ["GetCallerIdentity"]
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0].split(";")  # bound to the cluster name
    assert query["X-Amz-Credential"][0].startswith(AMBIENT_KEY + "/")  # the ambient identity signed it
    expires = datetime.datetime.strptime(credential["status"]["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert expires > datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def test_the_exec_user_assumes_the_role_or_uses_the_profile(aws: dict[str, str]) -> None:
    as_role = exec_credential(
        yaml.safe_load(eks.kubeconfig(EksCluster(cluster=CLUSTER, region=REGION, role_arn=DEPLOYER)))
    )
    _, query = presigned_url(as_role["status"]["token"])
    # Signed with the temporary credentials of the assumed role (ASIA…), not the ambient keys.
    assert query["X-Amz-Credential"][0].startswith("ASIA")
    assert "X-Amz-Security-Token" in query

    with_profile = yaml.safe_load(eks.kubeconfig(EksCluster(cluster=CLUSTER, region=REGION, profile="deployer")))
    assert with_profile["users"][0]["user"]["exec"]["env"] == [{"name": "AWS_PROFILE", "value": "deployer"}]
    _, query = presigned_url(exec_credential(with_profile)["status"]["token"])
    # The profile wins over the static keys in the environment, as it does for the lookup.
    assert query["X-Amz-Credential"][0].startswith(PROFILE_KEY + "/")


def test_the_lookup_honours_the_eks_specific_endpoint_variable(
    aws: dict[str, str], moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", moto_url)
    doc = yaml.safe_load(eks.kubeconfig(EksCluster(cluster=CLUSTER, region=REGION)))
    assert doc["clusters"][0]["cluster"]["server"] == described(moto_url)["endpoint"]


# --- kubectl -------------------------------------------------------------------------------------


def test_kubectl_reads_the_generated_kubeconfig(aws: dict[str, str], tmp_path: Path) -> None:
    text = eks.kubeconfig(EksCluster(cluster=CLUSTER, region=REGION, role_arn=DEPLOYER, profile="deployer"))
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    done = subprocess.run(
        [tool("kubectl"), "--kubeconfig", str(path), "config", "view", "--minify", "--raw", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    ours = yaml.safe_load(text)
    assert seen["current-context"] == ours["current-context"]
    assert seen["clusters"] == ours["clusters"]
    assert seen["contexts"] == ours["contexts"]
    exec_user = seen["users"][0]["user"]["exec"]
    for key in ("apiVersion", "command", "args", "env", "interactiveMode"):
        assert exec_user[key] == ours["users"][0]["user"]["exec"][key], key


class _ApiServer(BaseHTTPRequestHandler):
    """Answers ``/version`` like an API server and keeps the Authorization header it got."""

    seen: list[str | None]

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization"))
        body = json.dumps({"major": "1", "minor": "33", "gitVersion": "v1.33.0-eks"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "server.pem", tmp_path / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_kubectl_authenticates_with_the_generated_exec_user(aws: dict[str, str], tmp_path: Path) -> None:
    """kubectl itself runs the exec user and sends its token: the generated kubeconfig with the
    cluster entry pointed at a TLS stub on 127.0.0.1 (moto's endpoint is not a real API server)."""
    cert, key = _self_signed(tmp_path)
    handler = type("Handler", (_ApiServer,), {"seen": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        doc = yaml.safe_load(eks.kubeconfig(EksCluster(cluster=CLUSTER, region=REGION, profile="deployer")))
        doc["clusters"][0]["cluster"] = {
            "server": f"https://127.0.0.1:{server.server_port}",
            "certificate-authority-data": base64.b64encode(cert.read_bytes()).decode(),
        }
        path = tmp_path / "kubeconfig"
        path.write_text(yaml.safe_dump(doc))
        env = {**os.environ, "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", "")}
        done = subprocess.run(
            [tool("kubectl"), "--kubeconfig", str(path), "get", "--raw", "/version"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["gitVersion"] == "v1.33.0-eks"
    [authorization] = handler.seen
    assert authorization is not None
    assert authorization.startswith("Bearer k8s-aws-v1.")
    _, query = presigned_url(authorization.removeprefix("Bearer "))
    assert query["X-Amz-Credential"][0].startswith(PROFILE_KEY + "/")


# --- failures: stopped before anything touches a cluster ------------------------------------------


def _run_error(eks_config: Mapping[str, Any]) -> tuple[str, list[Any]]:
    with pytest.raises(RunError) as caught:
        eks_stack(eks_config)
    return str(caught.value), list(caught.value.recording.resources)  # type: ignore[attr-defined]


def test_a_missing_cluster_stops_the_program_before_any_resource(aws: dict[str, str]) -> None:
    message, registered = _run_error({"cluster": "no-such-cluster", "region": REGION})
    assert message.startswith("1 configuration problem:\n  meshstack:kubernetes.eks.cluster: no EKS cluster named ")
    assert "'no-such-cluster' in region eu-west-1" in message
    assert registered == []
    # The cluster exists, in another region than the one configured.
    message, registered = _run_error({"cluster": CLUSTER, "region": "us-east-1"})
    assert f"meshstack:kubernetes.eks.cluster: no EKS cluster named '{CLUSTER}' in region us-east-1" in message
    assert registered == []


def test_kubeconfig_and_eks_together_stop_the_program_before_any_resource(aws: dict[str, str]) -> None:
    with pytest.raises(RunError) as caught:
        eks_stack({"cluster": CLUSTER, "region": REGION}, kubeconfig="/etc/kube/config")
    assert "meshstack:kubernetes.eks: eks and kubeconfig are both set" in str(caught.value)
    assert caught.value.recording.resources == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(("status", "serves"), [("CREATING", False), ("FAILED", False), ("UPDATING", True)])
def test_a_cluster_that_is_not_up_is_refused(aws: dict[str, str], moto_url: str, status: str, serves: bool) -> None:
    name = f"mesh-{status.lower()}"
    boto3.client("eks", region_name=REGION).create_cluster(
        name=name, roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks-cluster", resourcesVpcConfig={}
    )
    eks_backends[ACCOUNT][REGION].clusters[name].status = status  # moto creates clusters ACTIVE
    spec = EksCluster(cluster=name, region=REGION)
    if serves:
        assert (
            yaml.safe_load(eks.kubeconfig(spec))["clusters"][0]["cluster"]["server"]
            == described(moto_url, name)["endpoint"]
        )
        return
    message, registered = _run_error({"cluster": name, "region": REGION})
    assert f"meshstack:kubernetes.eks.cluster: EKS cluster '{name}' in eu-west-1 is {status}, not ACTIVE" in message
    assert registered == []


def test_no_credentials_is_a_path_named_error(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    message, registered = _run_error({"cluster": CLUSTER, "region": REGION})
    assert "meshstack:kubernetes.eks.cluster: no usable AWS credentials to look up EKS cluster 'mesh-prod'" in message
    assert registered == []


def test_an_unknown_profile_is_named_at_its_key(aws: dict[str, str]) -> None:
    message, registered = _run_error({"cluster": CLUSTER, "region": REGION, "profile": "nobody"})
    assert "meshstack:kubernetes.eks.profile: no AWS profile 'nobody' in the AWS config files" in message
    assert registered == []


def test_access_denied_names_the_permission() -> None:
    client = boto3.client("eks", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_client_error(
        "describe_cluster",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:sts::123456789012:assumed-role/ci/1 is not authorized to perform: eks:DescribeCluster",
        http_status_code=403,
        expected_params={"name": CLUSTER},
    )
    with stubber, pytest.raises(ConfigError) as caught:
        eks.describe(EksCluster(cluster=CLUSTER, region=REGION), client)
    assert caught.value.paths == ["kubernetes.eks.cluster"]
    assert "AWS refused eks:DescribeCluster on EKS cluster 'mesh-prod' in eu-west-1: AccessDeniedException" in str(
        caught.value
    )
    stubber.assert_no_pending_responses()


def test_an_unreachable_endpoint_is_a_path_named_error(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_EKS", "http://127.0.0.1:9")  # discard: nothing listens
    with pytest.raises(ConfigError) as caught:
        eks.kubeconfig(EksCluster(cluster=CLUSTER, region=REGION))
    assert caught.value.paths == ["kubernetes.eks.cluster"]
    assert "could not reach the EKS API to look up EKS cluster 'mesh-prod' in eu-west-1" in str(caught.value)
