from django.db import migrations


class Migration(migrations.Migration):
    """Issue 20's parts side by side: the send governor, auto-replies,
    follow-ups and workflows, scheduled texts; each adds rows or fields of its
    own, so the merge changes nothing."""

    dependencies = [
        ("chatserver", "0007_governor"),
        ("chatserver", "0007_h20auto_auto_replies"),
        ("chatserver", "0007_h20follow_followups"),
        ("chatserver", "0007_h20sched_scheduled_texts"),
    ]

    operations = []
