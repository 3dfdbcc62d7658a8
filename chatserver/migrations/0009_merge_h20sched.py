from django.db import migrations


class Migration(migrations.Migration):
    """Scheduled texts (h20sched) beside the rest of issue 20 (the governor,
    auto-replies, follow-ups): each adds fields of its own."""

    dependencies = [
        ("chatserver", "0008_merge_issue20"),
        ("chatserver", "0007_h20sched_scheduled_texts"),
    ]

    operations = []
