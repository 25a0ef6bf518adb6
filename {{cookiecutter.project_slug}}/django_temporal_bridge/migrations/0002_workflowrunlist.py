from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("django_temporal_bridge", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkflowRunList",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
            ],
            options={
                "verbose_name": "workflow",
                "verbose_name_plural": "workflows",
                "managed": False,
            },
        ),
    ]
