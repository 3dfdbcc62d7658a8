from django.db import migrations


class Migration(migrations.Migration):
    """Scheduled texts (h20sched) beside the send governor: both add to
    ``Message``, neither touches the other's fields."""

    dependencies = [
        ("chatserver", "0007_governor"),
        ("chatserver", "0007_h20sched_scheduled_texts"),
    ]

    operations = []
