"""The fixed vocabularies of preparation (stored as their values, shown as their labels)."""

from __future__ import annotations

from django.db import models


class ScenarioType(models.TextChoices):
    PRODUCT_DEFECT = "product_defect", "Product defect or recall"
    SERVICE_FAILURE = "service_failure", "Service failure or outage"
    VIRAL_COMPLAINT = "viral_complaint", "Customer complaint going viral"
    DATA_BREACH = "data_breach", "Data breach"
    EMPLOYEE_MISCONDUCT = "employee_misconduct", "Employee misconduct"
    MISINFORMATION = "misinformation", "Misinformation or reputation attack"
    OFFENSIVE_CONTENT = "offensive_content", "Offensive or visual content"
    EXTERNAL_EVENT = "external_event", "External event"


class Phase(models.TextChoices):
    PRE = "pre", "Pre-crisis"
    DURING = "during", "During the crisis"
    POST = "post", "Post-crisis"


class PlaybookStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class TemplateKind(models.TextChoices):
    HOLDING = "holding", "Holding statement"
    APOLOGY = "apology", "Apology"
    UPDATE = "update", "Update"
    RESOLUTION = "resolution", "Resolution"
    REPLY = "reply", "Reply"


class ApprovalState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved"
    SUPERSEDED = "superseded", "Superseded"
