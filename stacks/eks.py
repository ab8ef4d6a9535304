"""``meshstack:kubernetes.eks``: the kubeconfig of an EKS cluster, read from the EKS API.

The program calls :func:`kubeconfig` once, at start, before it registers anything: one
``eks:DescribeCluster`` (endpoint, certificate authority, status) with the ambient AWS credentials
(or ``profile``), rendered by :func:`meshstack.render.kubeconfig.eks_kubeconfig` into a kubeconfig
whose user runs ``aws eks get-token``. Anything wrong (no credentials, no such cluster in the
region, a cluster that is not up) stops the program with a ConfigError naming
``kubernetes.eks.cluster``; nothing has touched a cluster by then.

The AWS endpoint is botocore's: ``AWS_ENDPOINT_URL_EKS`` / ``AWS_ENDPOINT_URL`` (or ``endpoint_url``
in the AWS config) when set, the region's EKS endpoint otherwise. boto3 is needed only for this.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import boto3  # type: ignore[import-untyped]
import yaml
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from meshstack.errors import ConfigError
from meshstack.model.kubernetes import EksCluster
from meshstack.render.kubeconfig import eks_kubeconfig

#: Where lookup problems are reported (config paths; the program prefixes ``meshstack:``).
CLUSTER_PATH = "kubernetes.eks.cluster"
PROFILE_PATH = "kubernetes.eks.profile"
#: Cluster states whose API server serves requests: ACTIVE, and UPDATING (a version or
#: configuration update in progress keeps the endpoint up).
SERVING = frozenset({"ACTIVE", "UPDATING"})
#: Bounded waits: a wrong endpoint or a black-holed network fails in seconds, not minutes.
CLIENT_CONFIG = Config(connect_timeout=10, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})
#: AWS error codes that mean "these credentials may not do this" rather than "no such cluster".
_DENIED = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
        "ExpiredToken",
    }
)


def eks_client(eks: EksCluster) -> Any:
    """An EKS client for ``eks.region`` with the ambient credentials, or ``eks.profile``'s."""
    try:
        session = boto3.Session(profile_name=eks.profile, region_name=eks.region)
    except ProfileNotFound:
        raise ConfigError.single(
            PROFILE_PATH,
            f"no AWS profile {eks.profile!r} in the AWS config files ($AWS_CONFIG_FILE, ~/.aws/config, "
            "$AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials)",
        ) from None
    return session.client("eks", region_name=eks.region, config=CLIENT_CONFIG)


def describe(eks: EksCluster, client: Any | None = None) -> Mapping[str, Any]:
    """``describe_cluster`` of ``eks.cluster``, checked to be up and to carry an endpoint and a
    certificate authority. ``client``: an EKS client to use instead of :func:`eks_client`'s."""
    where = f"EKS cluster {eks.cluster!r} in {eks.region}"
    client = eks_client(eks) if client is None else client
    try:
        answer = client.describe_cluster(name=eks.cluster)
    except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError) as err:
        raise _problem(
            f"no usable AWS credentials to look up {where} ({err}): set kubernetes.eks.profile or "
            "AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with a role (web identity, "
            "container or instance credentials); the identity needs eks:DescribeCluster (docs/eks.md)"
        ) from None
    except ClientError as err:
        code = str(err.response.get("Error", {}).get("Code", ""))
        message = str(err.response.get("Error", {}).get("Message", "")).strip()
        if code == "ResourceNotFoundException":
            raise _problem(
                f"no EKS cluster named {eks.cluster!r} in region {eks.region} of the AWS account these "
                f"credentials belong to (aws eks list-clusters --region {eks.region} lists them); check "
                "kubernetes.eks.cluster and kubernetes.eks.region"
            ) from None
        if code in _DENIED:
            raise _problem(
                f"AWS refused eks:DescribeCluster on {where}: {code}: {message}; the identity running the "
                "program needs eks:DescribeCluster on the cluster's ARN (docs/eks.md)"
            ) from None
        raise _problem(f"could not look up {where}: {code}: {message}") from None
    except EndpointConnectionError as err:
        raise _problem(f"could not reach the EKS API to look up {where}: {err}") from None
    except BotoCoreError as err:
        raise _problem(f"could not look up {where}: {err}") from None

    cluster: Mapping[str, Any] = answer.get("cluster") or {}
    status = str(cluster.get("status", "UNKNOWN"))
    if status not in SERVING:
        raise _problem(
            f"{where} is {status}, not ACTIVE: its API server does not serve requests; "
            "wait until it is ACTIVE (aws eks wait cluster-active) or fix the cluster"
        )
    endpoint = cluster.get("endpoint")
    ca_data = (cluster.get("certificateAuthority") or {}).get("data")
    if not endpoint or not ca_data:
        missing = " and ".join(n for n, v in (("an endpoint", endpoint), ("a certificate authority", ca_data)) if not v)
        raise _problem(f"{where} has no {missing} yet; wait until it is ACTIVE")
    try:
        base64.b64decode(str(ca_data), validate=True)
    except (binascii.Error, ValueError):
        raise _problem(f"{where}: its certificate authority data is not base64") from None
    return cluster


def kubeconfig(eks: EksCluster, client: Any | None = None) -> str:
    """The kubeconfig (YAML) of ``eks``: one cluster, context and user named by the cluster's ARN,
    the user an ``exec`` of ``aws eks get-token``. Raises ConfigError (paths without ``meshstack:``)."""
    cluster = describe(eks, client)
    arn = str(cluster.get("arn") or f"{eks.region}/{eks.cluster}")
    doc = eks_kubeconfig(
        eks, arn=arn, endpoint=str(cluster["endpoint"]), ca_data=str(cluster["certificateAuthority"]["data"])
    )
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def _problem(message: str) -> ConfigError:
    return ConfigError.single(CLUSTER_PATH, message)
