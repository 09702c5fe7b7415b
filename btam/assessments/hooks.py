"""What the assessments app plugs into the rest at start-up (``AppConfig.ready``): the system check
of the definition files and the case-workflow guards."""

from __future__ import annotations


def connect() -> None:
    from btam.assessments import checks, plan  # noqa: F401  (checks registers the system check)
    from btam.cases import workflow
    from btam.cases.models import Status

    workflow.register_guard(Status.MONITORING, plan.required_interventions_guard)
