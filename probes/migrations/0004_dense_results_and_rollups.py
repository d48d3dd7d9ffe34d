"""Denser raw results and rollups: keyed by the status row's 4-byte id (probe and location in one),
the start as an offset in ms from the slot, latencies as 4-byte floats, an empty error as NULL.

New tables are built beside the old ones, the rows copied over in one INSERT ... SELECT each (in
time order, as they arrive), the old tables dropped and the new ones renamed. Rows of a probe and
location that has no status row any more (a location taken off the probe) are not carried over: the
key needs the status row, and such a series is shown nowhere."""
import django.db.models.deletion
from django.db import migrations, models

import probes.models

OUTCOMES = [('up', 'Up'), ('degraded', 'Degraded'), ('down', 'Down')]

# The start offset in ms, per database (SQLite keeps datetimes as text).
STARTED_MS = {
    "postgresql": "round(extract(epoch FROM (r.started_at - r.slot)) * 1000)::integer",
    "sqlite": "CAST(round((julianday(r.started_at) - julianday(r.slot)) * 86400000) AS integer)",
}
# Before, NULL values meant "none"; now it means "as the previous result".
EMPTY_VALUES = {"postgresql": "'{}'::jsonb", "sqlite": "'{}'"}

RESULTS_COPY = (
    'INSERT INTO topology_proberesult_new (slot, series_id, started_ms, latency_ms, outcome, "values", error) '
    'SELECT r.slot, s.id, {started}, r.latency_ms, r.outcome, COALESCE(r."values", {empty}), NULLIF(r.error, \'\') '
    'FROM topology_proberesult r JOIN topology_probestatus s ON s.probe_id = r.probe_id AND s.location = r.location '
    'ORDER BY r.slot, s.id'
)
ROLLUPS_COPY = (
    'INSERT INTO topology_proberollup_new (bucket, series_id, latency_p50, latency_p95, count, down, degraded, '
    'period, last_outcome, last_values) '
    'SELECT r.bucket, s.id, r.latency_p50, r.latency_p95, r.count, r.down, r.degraded, r.period, r.last_outcome, '
    'r.last_values '
    'FROM topology_proberollup r JOIN topology_probestatus s ON s.probe_id = r.probe_id AND s.location = r.location '
    'ORDER BY r.bucket, s.id'
)


def rows_copy(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in STARTED_MS:
        raise NotImplementedError(f"no copy of probe results written for {vendor}")
    schema_editor.execute(RESULTS_COPY.format(started=STARTED_MS[vendor], empty=EMPTY_VALUES[vendor]))
    schema_editor.execute(ROLLUPS_COPY)


def keys_rename(apps, schema_editor):
    """PostgreSQL: the primary keys take the usual names, free again once the old tables are gone."""
    if schema_editor.connection.vendor == "postgresql":
        for table in ("topology_proberesult", "topology_proberollup"):
            schema_editor.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {table}_new_pkey TO {table}_pkey")


class Migration(migrations.Migration):

    dependencies = [
        ('probes', '0003_kafka_consumer_kind'),
    ]

    operations = [
        migrations.AlterField(
            model_name='probestatus',
            name='id',
            field=models.AutoField(primary_key=True, serialize=False),
        ),
        migrations.CreateModel(
            name='NewProbeResult',
            fields=[
                ('pk', models.CompositePrimaryKey('series', 'slot', blank=True, editable=False, primary_key=True,
                                                  serialize=False)),
                ('slot', models.DateTimeField(help_text='When the run was due.')),
                ('series', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                             related_name='results', to='probes.probestatus')),
                ('started_ms', models.IntegerField(help_text='When the run started, in ms after the slot.')),
                ('latency_ms', probes.models.RealField()),
                ('outcome', models.CharField(choices=OUTCOMES, max_length=10)),
                ('values', models.JSONField(blank=True, help_text='NULL: the same as the previous result.',
                                            null=True)),
                ('error', models.CharField(blank=True, max_length=300, null=True)),
            ],
            options={'db_table': 'topology_proberesult_new'},
        ),
        migrations.CreateModel(
            name='NewProbeRollup',
            fields=[
                ('pk', models.CompositePrimaryKey('series', 'period', 'bucket', blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ('bucket', models.DateTimeField()),
                ('series', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                             related_name='rollups', to='probes.probestatus')),
                ('latency_p50', probes.models.RealField()),
                ('latency_p95', probes.models.RealField()),
                ('count', models.PositiveSmallIntegerField()),
                ('down', models.PositiveSmallIntegerField()),
                ('degraded', models.PositiveSmallIntegerField()),
                ('period', models.CharField(choices=[('m', 'Minute'), ('h', 'Hour')], max_length=1)),
                ('last_outcome', models.CharField(choices=OUTCOMES, max_length=10)),
                ('last_values', models.JSONField(blank=True, help_text="The bucket's last changed values (NULL: none).",
                                                 null=True)),
            ],
            options={'db_table': 'topology_proberollup_new'},
        ),
        migrations.RunPython(rows_copy, migrations.RunPython.noop, elidable=False),
        migrations.DeleteModel(name='ProbeResult'),
        migrations.DeleteModel(name='ProbeRollup'),
        migrations.RenameModel(old_name='NewProbeResult', new_name='ProbeResult'),
        migrations.RenameModel(old_name='NewProbeRollup', new_name='ProbeRollup'),
        migrations.AlterModelTable(name='proberesult', table='topology_proberesult'),
        migrations.AlterModelTable(name='proberollup', table='topology_proberollup'),
        migrations.RunPython(keys_rename, migrations.RunPython.noop, elidable=False),
    ]
