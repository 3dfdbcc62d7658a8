from django.db import migrations, models


class Migration(migrations.Migration):
    """Scheduled texts ("Send later"): a terminal status ``cancelled``, and
    the flag that cancels one when the lead texts first. Texts scheduled
    before it (in quiet hours) keep going as they were: the flag is off for
    them, on for every new message."""

    dependencies = [
        ("chatserver", "0006_merge_console"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="cancel_on_reply",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="message",
            name="cancel_on_reply",
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name="message",
            name="status",
            field=models.CharField(
                choices=[
                    ("received", "Received"),
                    ("scheduled", "Scheduled"),
                    ("queued", "Queued"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("delivered", "Delivered"),
                    ("undelivered", "Undelivered"),
                    ("failed", "Failed"),
                    ("check", "Check with the carrier"),
                    ("cancelled", "Cancelled"),
                ],
                max_length=12,
            ),
        ),
    ]
