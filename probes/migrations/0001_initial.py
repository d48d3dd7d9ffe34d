"""Probes get an app of their own. The tables keep their names (topology_probe, ...) and every row:
this migration only tells Django that the probes app now owns them (topology 0008 lets go of them), and
moves their content types along."""
import django.db.models.deletion
from django.db import migrations, models

MODELS = ("probe", "probestatus", "proberesult", "proberollup", "rollupmark")


def content_types_move(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    taken = set(content_type.objects.filter(app_label="probes").values_list("model", flat=True))
    content_type.objects.filter(app_label="topology", model__in=set(MODELS) - taken).update(app_label="probes")


def content_types_return(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    taken = set(content_type.objects.filter(app_label="topology").values_list("model", flat=True))
    content_type.objects.filter(app_label="probes", model__in=set(MODELS) - taken).update(app_label="topology")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('topology', '0008_probes_leave_for_their_own_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='RollupMark',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('period', models.CharField(choices=[('m', 'Minute'), ('h', 'Hour')], max_length=1, unique=True)),
                        ('through', models.DateTimeField()),
                    ],
                    options={
                        'db_table': 'topology_rollupmark',
                    },
                ),
                migrations.CreateModel(
                    name='Probe',
                    fields=[
                        ('id', models.AutoField(primary_key=True, serialize=False)),
                        ('name', models.CharField(max_length=63)),
                        ('kind', models.CharField(choices=[('http', 'HTTP(S)'), ('tcp', 'TCP connect'), ('grpc', 'gRPC health'), ('rabbitmq-queue', 'RabbitMQ queue'), ('nats-consumer', 'NATS JetStream consumer'), ('redis', 'Redis')], max_length=20)),
                        ('target', models.CharField(max_length=500)),
                        ('interval', models.FloatField(help_text='Seconds between runs.')),
                        ('timeout', models.FloatField(help_text='Seconds a run may take.')),
                        ('options', models.JSONField(blank=True, default=dict)),
                        ('expect', models.JSONField(blank=True, default=dict)),
                        ('locations', models.JSONField(default=list)),
                        ('description', models.CharField(blank=True, max_length=500)),
                        ('next_due_at', models.DateTimeField(db_index=True)),
                        ('runs_30d', models.PositiveIntegerField(default=0)),
                        ('down_30d', models.PositiveIntegerField(default=0)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('service', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='probe_rows', to='topology.service')),
                    ],
                    options={
                        'db_table': 'topology_probe',
                        'ordering': ['service__name', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='ProbeResult',
                    fields=[
                        ('pk', models.CompositePrimaryKey('slot', 'probe', 'location', blank=True, editable=False, primary_key=True, serialize=False)),
                        ('location', models.CharField(max_length=32)),
                        ('slot', models.DateTimeField(help_text='When the run was due.')),
                        ('started_at', models.DateTimeField()),
                        ('latency_ms', models.FloatField()),
                        ('outcome', models.CharField(choices=[('up', 'Up'), ('degraded', 'Degraded'), ('down', 'Down')], max_length=10)),
                        ('values', models.JSONField(blank=True, null=True)),
                        ('error', models.CharField(blank=True, max_length=300)),
                        ('probe', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='results', to='probes.probe')),
                    ],
                    options={
                        'db_table': 'topology_proberesult',
                    },
                ),
                migrations.CreateModel(
                    name='ProbeRollup',
                    fields=[
                        ('pk', models.CompositePrimaryKey('probe', 'period', 'bucket', 'location', blank=True, editable=False, primary_key=True, serialize=False)),
                        ('location', models.CharField(max_length=32)),
                        ('period', models.CharField(choices=[('m', 'Minute'), ('h', 'Hour')], max_length=1)),
                        ('bucket', models.DateTimeField()),
                        ('count', models.PositiveIntegerField()),
                        ('down', models.PositiveIntegerField()),
                        ('degraded', models.PositiveIntegerField()),
                        ('latency_p50', models.FloatField()),
                        ('latency_p95', models.FloatField()),
                        ('last_outcome', models.CharField(choices=[('up', 'Up'), ('degraded', 'Degraded'), ('down', 'Down')], max_length=10)),
                        ('last_values', models.JSONField(blank=True, null=True)),
                        ('probe', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rollups', to='probes.probe')),
                    ],
                    options={
                        'db_table': 'topology_proberollup',
                    },
                ),
                migrations.CreateModel(
                    name='ProbeStatus',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('location', models.CharField(max_length=32)),
                        ('outcome', models.CharField(blank=True, choices=[('up', 'Up'), ('degraded', 'Degraded'), ('down', 'Down')], max_length=10)),
                        ('since', models.DateTimeField(blank=True, null=True)),
                        ('checked_at', models.DateTimeField(blank=True, null=True)),
                        ('claimed_slot', models.DateTimeField(blank=True, help_text='The latest slot a worker took.', null=True)),
                        ('claim_token', models.CharField(blank=True, help_text='Which run took claimed_slot.', max_length=32)),
                        ('last_slot', models.DateTimeField(blank=True, help_text='The slot of the result shown.', null=True)),
                        ('latency_ms', models.FloatField(blank=True, null=True)),
                        ('values', models.JSONField(blank=True, default=dict)),
                        ('error', models.CharField(blank=True, max_length=300)),
                        ('probe', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='statuses', to='probes.probe')),
                    ],
                    options={
                        'db_table': 'topology_probestatus',
                        'ordering': ['probe', 'location'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='probe',
                    constraint=models.UniqueConstraint(fields=('service', 'name'), name='probe_unique_service_name'),
                ),
                migrations.AddConstraint(
                    model_name='probestatus',
                    constraint=models.UniqueConstraint(fields=('probe', 'location'), name='probestatus_unique_location'),
                ),
            ],
        ),
        migrations.RunPython(content_types_move, content_types_return),
    ]
