"""The probe models move to the probes app (probes 0001), tables and rows untouched: topology only
forgets them here."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('topology', '0007_topology_summary'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='ProbeResult'),
                migrations.DeleteModel(name='ProbeRollup'),
                migrations.DeleteModel(name='ProbeStatus'),
                migrations.DeleteModel(name='Probe'),
                migrations.DeleteModel(name='RollupMark'),
            ],
        ),
    ]
