"""Pollable async jobs: any context starts long-running work with ``start_job`` and runs it
in a ``tracked_task``; the account follows it through ``/v1/jobs``."""

from .service import STATUSES, cancel_job, get_job, list_jobs, start_job
from .tracking import JobCancelled, JobFailed, TrackedJob, is_tracked, tracked_task

__all__ = [
    "STATUSES",
    "JobCancelled",
    "JobFailed",
    "TrackedJob",
    "cancel_job",
    "get_job",
    "is_tracked",
    "list_jobs",
    "start_job",
    "tracked_task",
]
