"""Reads of publishing data that grow with rows, shaped to run a constant number of queries."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from tenants.publishing.models import ItemStatus, PublishRun


def _count_name(status: str) -> str:
    return f"items_{status}"


def runs_with_item_counts(runs: QuerySet[PublishRun]) -> QuerySet[PublishRun]:
    """Annotate each run with how many of its items are in each status.

    One grouped query for a whole page of runs, instead of one count per run.
    """
    return runs.annotate(
        **{
            _count_name(status): Count("items", filter=Q(items__status=status))
            for status in ItemStatus.values
        }
    )


def run_item_counts(run: PublishRun) -> dict[str, int]:
    """Items per status: from ``runs_with_item_counts`` when annotated, else one query."""
    if hasattr(run, _count_name(ItemStatus.PENDING)):
        return {status: getattr(run, _count_name(status)) for status in ItemStatus.values}
    from tenants.publishing.services.publish import run_summary

    return run_summary(run)
