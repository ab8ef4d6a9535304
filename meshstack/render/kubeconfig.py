"""The kubeconfig of an EKS cluster (pure): what ``describe_cluster`` says about it, and a user that
authenticates with ``aws eks get-token`` the way ``aws eks update-kubeconfig`` sets it up.

No token is ever written: the client (the Pulumi Kubernetes provider, kubectl) runs the ``exec``
command whenever it needs one, so the kubeconfig holds nothing secret and never goes stale.
"""

from __future__ import annotations

from typing import Any

from meshstack.model.kubernetes import EksCluster

#: The ExecCredential version the user asks for; ``aws eks get-token`` answers in the version the
#: client announces (``KUBERNETES_EXEC_INFO``), this one.
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
#: The command on the client's PATH that signs a token (the AWS CLI, v1 or v2).
AWS_COMMAND = "aws"


def get_token_args(eks: EksCluster) -> list[str]:
    """The arguments of ``aws`` that print an ExecCredential for ``eks``.

    ``--profile`` (with ``AWS_PROFILE`` in the user's env) makes the profile win over static keys in
    the environment, as it does for the lookup (an explicit profile; ``AWS_PROFILE`` alone would
    lose to ``AWS_ACCESS_KEY_ID``). ``--output json`` overrides whatever output format the AWS
    config or ``AWS_DEFAULT_OUTPUT`` prefers: the client reads JSON."""
    args = ["eks", "get-token", "--cluster-name", eks.cluster, "--region", eks.region]
    if eks.role_arn is not None:
        args += ["--role-arn", eks.role_arn]
    if eks.profile is not None:
        args += ["--profile", eks.profile]
    return [*args, "--output", "json"]


def eks_kubeconfig(eks: EksCluster, *, arn: str, endpoint: str, ca_data: str) -> dict[str, Any]:
    """A kubeconfig with one cluster, context and user, all named by the cluster's ``arn``:
    ``endpoint`` and ``ca_data`` (base64 PEM, as ``describe_cluster`` returns it) for the server,
    ``aws eks get-token`` for the credentials (``AWS_PROFILE`` set when ``eks.profile`` is)."""
    exec_user: dict[str, Any] = {
        "apiVersion": EXEC_API_VERSION,
        "command": AWS_COMMAND,
        "args": get_token_args(eks),
    }
    if eks.profile is not None:
        exec_user["env"] = [{"name": "AWS_PROFILE", "value": eks.profile}]
    exec_user["interactiveMode"] = "Never"
    exec_user["provideClusterInfo"] = False
    exec_user["installHint"] = (
        f"The AWS CLI (`{AWS_COMMAND}`) must be on PATH to authenticate to EKS cluster {eks.cluster} "
        "(see meshstack's docs/eks.md)."
    )
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": arn, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": arn, "context": {"cluster": arn, "user": arn}}],
        "current-context": arn,
        "users": [{"name": arn, "user": {"exec": exec_user}}],
    }
