from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("django_temporal_bridge", "0003_enqueuedtask_failed"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="workflowrunlist",
            options={
                "managed": False,
                "permissions": [
                    (
                        "decode_payloads",
                        "Can decode Temporal payloads (the Web UI's codec)",
                    ),
                    (
                        "encode_payloads",
                        "Can encode Temporal payloads (the Web UI's codec)",
                    ),
                ],
                "verbose_name": "workflow",
                "verbose_name_plural": "workflows",
            },
        ),
    ]
