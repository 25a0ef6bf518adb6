from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_temporal_bridge", "0002_workflowrunlist"),
    ]

    operations = [
        migrations.AddField(
            model_name="enqueuedtask",
            name="failed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="enqueuedtask",
            name="error",
            field=models.TextField(blank=True),
        ),
    ]
