"""meshstack's guardrails as a Pulumi policy pack (docs/cd.md#guardrails)."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)


def _no_latest(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = (
        (args.props.get("spec") or {}).get("template", {}).get("spec", {})
        if args.resource_type.startswith("kubernetes:apps/")
        else {}
    )
    for container in spec.get("containers", []) or []:
        image = str(container.get("image", ""))
        if image.endswith(":latest") or (":" not in image.rsplit("/", 1)[-1] and "@" not in image):
            report(
                f"container {container.get('name')}: image {image!r} is not pinned (a tag other than latest, or a digest)"
            )


PolicyPack(
    name="meshstack-guardrails",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(
            name="images-pinned", description="Every container image is pinned.", validate=_no_latest
        )
    ],
)
