"""How the stack reaches its cluster (the ``meshstack:kubernetes`` section).

Either a kubeconfig (a file and a context, or the ambient one) or an EKS cluster by name and
region (``eks``), whose kubeconfig the program builds from the EKS API (docs/eks.md).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, model_validator

from meshstack.errors import fail, fail_all, show
from meshstack.model.base import Model

#: What EKS allows as a cluster name: 1-100 letters, digits, '-' and '_', starting with a letter or digit.
EKS_CLUSTER_NAME = r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$"
#: The shape of an AWS region name: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, us-isob-east-1 …
AWS_REGION = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$"
#: An IAM role ARN in any partition (aws, aws-cn, aws-us-gov, aws-iso …), with an optional path.
IAM_ROLE_ARN = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/([\x21-\x7e]{1,510}/)?[A-Za-z0-9+=,.@_-]{1,64}$"


def _shaped(pattern: str, max_length: int, allowed: str) -> BeforeValidator:
    """Refuses a string of the wrong shape saying in words what is allowed (the pattern itself
    stays in the schema, for docs/config.md)."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and (len(value) > max_length or not re.fullmatch(pattern, value)):
            raise fail(f"expected {allowed}, got {show(value)}")
        return value

    return BeforeValidator(check)


EksClusterName = Annotated[
    str,
    Field(pattern=EKS_CLUSTER_NAME, max_length=100),
    _shaped(
        EKS_CLUSTER_NAME,
        100,
        "an EKS cluster name (1-100 letters, digits, '-' or '_', starting with a letter or digit)",
    ),
]
AwsRegion = Annotated[
    str,
    Field(pattern=AWS_REGION, max_length=32),
    _shaped(AWS_REGION, 32, "an AWS region name such as us-east-1, eu-central-1 or us-gov-west-1"),
]
IamRoleArn = Annotated[
    str,
    Field(pattern=IAM_ROLE_ARN, max_length=2048),
    _shaped(IAM_ROLE_ARN, 2048, "an IAM role ARN such as arn:aws:iam::123456789012:role/meshstack-deployer"),
]
AWS_PROFILE = r"^[^\s\[\]]{1,128}$"
AwsProfile = Annotated[
    str,
    Field(pattern=AWS_PROFILE, max_length=128),
    _shaped(AWS_PROFILE, 128, "an AWS config profile name (1-128 characters, no spaces or brackets)"),
]


class EksCluster(Model):
    """An EKS cluster to deploy to. The program reads its endpoint and certificate authority with
    ``eks:DescribeCluster`` (the ambient AWS credentials, or ``profile``) before anything touches
    the cluster, and authenticates with ``aws eks get-token`` (as ``roleArn`` when set)."""

    cluster: EksClusterName = Field(
        description="With eks: the EKS cluster's name (not its ARN), as in `aws eks describe-cluster --name`.",
    )
    region: AwsRegion = Field(description="With eks: the AWS region the cluster runs in.")
    role_arn: IamRoleArn | None = Field(
        None,
        description="With eks: an IAM role `aws eks get-token` assumes to sign the cluster token (`--role-arn`); "
        "that role is the identity the cluster sees and needs cluster-admin there (docs/eks.md). The lookup "
        "(eks:DescribeCluster) still uses the ambient credentials. Unset: the ambient identity signs the token.",
    )
    profile: AwsProfile | None = Field(
        None,
        description="With eks: the AWS config profile for the lookup and for `aws eks get-token` (`--profile` and "
        "AWS_PROFILE); it wins over keys in the environment. Unset: the ambient credentials (environment, "
        "web identity, container or instance role).",
    )


class KubernetesConfig(Model):
    """Which cluster to deploy to: a kubeconfig (``kubeconfig``/``context``) or an EKS cluster
    (``eks``), not both. Unset, the ambient kubeconfig (``$KUBECONFIG`` or ``~/.kube/config``) and
    its current context are used."""

    kubeconfig: str | None = Field(
        None, description="Path to a kubeconfig file. Unset: $KUBECONFIG, then ~/.kube/config. Not with eks."
    )
    context: str | None = Field(
        None, description="kubeconfig context to use. Unset: the current context. Not with eks."
    )
    eks: EksCluster | None = Field(
        None,
        description="An EKS cluster: its kubeconfig is built from the EKS API (docs/eks.md). Not with kubeconfig or context.",
    )
    delete_unreachable: bool = Field(
        False,
        description="Drop resources of an unreachable cluster from state on refresh (for clusters deleted out of band).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if self.eks is None:
            return self
        clashes = [key for key in ("kubeconfig", "context") if getattr(self, key) is not None]
        problems = [
            (
                "eks",
                f"eks and {key} are both set; eks builds the kubeconfig from the EKS API, so set either eks "
                "or kubeconfig/context, not both",
            )
            for key in clashes
        ]
        if err := fail_all(problems):
            raise err
        return self
