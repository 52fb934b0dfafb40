"""Workflow: automations, their executions and schedules, approval chains."""
