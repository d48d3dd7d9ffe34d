"""Probes as scheduled (materialised from each service's declared `probes`), their state per location,
raw results and rollups. The tables keep the names they had when probes lived in the topology app."""
from django.db import models
from django.urls import reverse

from .choices import ProbeKind, ProbeOutcome, RollupPeriod


class Probe(models.Model):
    """A probe as scheduled: materialised from its service's declared `probes` (the one source of truth)."""

    id = models.AutoField(primary_key=True)  # 4-byte keys: they repeat in millions of result rows
    service = models.ForeignKey("topology.Service", on_delete=models.CASCADE, related_name="probe_rows")
    name = models.CharField(max_length=63)
    kind = models.CharField(max_length=20, choices=ProbeKind.choices)
    target = models.CharField(max_length=500)
    interval = models.FloatField(help_text="Seconds between runs.")
    timeout = models.FloatField(help_text="Seconds a run may take.")
    options = models.JSONField(default=dict, blank=True)
    expect = models.JSONField(default=dict, blank=True)
    locations = models.JSONField(default=list)
    description = models.CharField(max_length=500, blank=True)
    next_due_at = models.DateTimeField(db_index=True)
    # Runs and down runs over the last 30 days, summed from the hourly rollups each hour.
    runs_30d = models.PositiveIntegerField(default=0)
    down_30d = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "topology_probe"
        ordering = ["service__name", "name"]
        constraints = [models.UniqueConstraint(fields=["service", "name"], name="probe_unique_service_name")]

    def __str__(self) -> str:
        return f"{self.service.name}/{self.name}"

    @property
    def key(self) -> str:
        return f"{self.service.name}/{self.name}"

    def get_absolute_url(self) -> str:
        return reverse("probe-detail", args=[self.service.name, self.name])


class ProbeStatus(models.Model):
    """The current state of one probe at one location; `last_slot` only moves forward."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="statuses")
    location = models.CharField(max_length=32)
    outcome = models.CharField(max_length=10, choices=ProbeOutcome.choices, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    claimed_slot = models.DateTimeField(null=True, blank=True, help_text="The latest slot a worker took.")
    claim_token = models.CharField(max_length=32, blank=True, help_text="Which run took claimed_slot.")
    last_slot = models.DateTimeField(null=True, blank=True, help_text="The slot of the result shown.")
    latency_ms = models.FloatField(null=True, blank=True)
    values = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=300, blank=True)
    # Flapping protection: how many results in a row had `outcome`, and the state last confirmed
    # (announced) once that streak reached PROBE_DOWN_AFTER / PROBE_UP_AFTER.
    streak = models.PositiveIntegerField(default=0)
    confirmed = models.CharField(max_length=10, choices=ProbeOutcome.choices, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "topology_probestatus"
        ordering = ["probe", "location"]
        constraints = [models.UniqueConstraint(fields=["probe", "location"], name="probestatus_unique_location")]


class ProbeResult(models.Model):
    """One run of one probe at one location in one slot. Kept for PROBE_RAW_RETENTION."""

    # Slot first: rows arrive in time order, so the key's index fills densely, and rollups and
    # retention read time ranges from it; the probe's own index serves one probe's history.
    pk = models.CompositePrimaryKey("slot", "probe", "location")
    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="results")
    location = models.CharField(max_length=32)
    slot = models.DateTimeField(help_text="When the run was due.")
    started_at = models.DateTimeField()
    latency_ms = models.FloatField()
    outcome = models.CharField(max_length=10, choices=ProbeOutcome.choices)
    values = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "topology_proberesult"


class ProbeRollup(models.Model):
    """Per-minute or per-hour summary of one probe at one location."""

    # Probe, period, time: uptime and charts read one probe's buckets in a range; the key covers it.
    pk = models.CompositePrimaryKey("probe", "period", "bucket", "location")
    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="rollups", db_index=False)
    location = models.CharField(max_length=32)
    period = models.CharField(max_length=1, choices=RollupPeriod.choices)
    bucket = models.DateTimeField()
    count = models.PositiveIntegerField()
    down = models.PositiveIntegerField()
    degraded = models.PositiveIntegerField()
    latency_p50 = models.FloatField()
    latency_p95 = models.FloatField()
    last_outcome = models.CharField(max_length=10, choices=ProbeOutcome.choices)
    last_values = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "topology_proberollup"


class RollupMark(models.Model):
    """How far each rollup period has been computed (buckets before `through` are final)."""

    period = models.CharField(max_length=1, choices=RollupPeriod.choices, unique=True)
    through = models.DateTimeField()

    class Meta:
        db_table = "topology_rollupmark"
