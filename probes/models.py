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
    """The current state of one probe at one location; `last_slot` only moves forward. Its 4-byte id
    is the key of the series of results and rollups of that probe at that location."""

    id = models.AutoField(primary_key=True)
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


class RealField(models.FloatField):
    """A 4-byte float (about 7 significant digits; SQLite keeps 8), read back rounded to 3 decimals
    as latencies are measured."""

    def db_type(self, connection) -> str:
        return "real"

    def from_db_value(self, value, expression, connection):
        return None if value is None else round(value, 3)


class ProbeResult(models.Model):
    """One run of one series (probe at a location) in one slot. Kept for PROBE_RAW_RETENTION_HOURS.

    Dense on purpose (millions of rows): the series is the status row's 4-byte id, the start an
    offset in ms from the slot, the latency a 4-byte float, `error` NULL when empty and `values`
    NULL when the same as the series' previous result (each series' first result of an hour always
    carries them, so a reader finds them within the hour: see probes.results_store).
    Columns are declared 8-byte first, so PostgreSQL adds no alignment padding."""

    # Series first: one series' history is one range of the key; the rollups and retention read a
    # time range series by series (an IN list of the few thousand series), which the key serves too.
    pk = models.CompositePrimaryKey("series", "slot")
    slot = models.DateTimeField(help_text="When the run was due.")
    series = models.ForeignKey(ProbeStatus, on_delete=models.CASCADE, related_name="results", db_index=False)
    started_ms = models.IntegerField(help_text="When the run started, in ms after the slot.")
    latency_ms = RealField()
    outcome = models.CharField(max_length=10, choices=ProbeOutcome.choices)
    values = models.JSONField(null=True, blank=True, help_text="NULL: the same as the previous result.")
    error = models.CharField(max_length=300, null=True, blank=True)

    class Meta:
        db_table = "topology_proberesult"


class ProbeRollup(models.Model):
    """Per-minute or per-hour summary of one series (probe at a location)."""

    # Series, period, time: uptime and charts read one probe's buckets in a range; the key covers it.
    pk = models.CompositePrimaryKey("series", "period", "bucket")
    bucket = models.DateTimeField()
    series = models.ForeignKey(ProbeStatus, on_delete=models.CASCADE, related_name="rollups", db_index=False)
    latency_p50 = RealField()
    latency_p95 = RealField()
    count = models.PositiveSmallIntegerField()  # at most 360 runs an hour (the shortest interval is 10 s)
    down = models.PositiveSmallIntegerField()
    degraded = models.PositiveSmallIntegerField()
    period = models.CharField(max_length=1, choices=RollupPeriod.choices)
    last_outcome = models.CharField(max_length=10, choices=ProbeOutcome.choices)
    last_values = models.JSONField(null=True, blank=True, help_text="The bucket's last changed values (NULL: none).")

    class Meta:
        db_table = "topology_proberollup"


class RollupMark(models.Model):
    """How far each rollup period has been computed (buckets before `through` are final)."""

    period = models.CharField(max_length=1, choices=RollupPeriod.choices, unique=True)
    through = models.DateTimeField()

    class Meta:
        db_table = "topology_rollupmark"
