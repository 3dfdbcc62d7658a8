
import chatserver.models.fields
from django.db import migrations, models

# The roofing words for the roles stored before them (and back).
RENAMED = {"borrower": "homeowner", "co_borrower": "spouse"}


def rename_roles(apps, schema_editor):
    Contact = apps.get_model("chatserver", "Contact")
    for old, new in RENAMED.items():
        Contact.objects.filter(role=old).update(role=new)


def restore_roles(apps, schema_editor):
    Contact = apps.get_model("chatserver", "Contact")
    for old, new in RENAMED.items():
        Contact.objects.filter(role=new).update(role=old)
    # No old word for an adjuster: the nearest is an external partner.
    Contact.objects.filter(role="adjuster").update(role="partner")


class Migration(migrations.Migration):

    dependencies = [
        ('chatserver', '0004_sender_number_gateways'),
    ]

    operations = [
        migrations.AddField(
            model_name='contact',
            name='email',
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.AddField(
            model_name='organisation',
            name='region',
            field=models.CharField(default='US', help_text='Where numbers typed without a country code are read (ISO 3166 code: US, CA, GB...).', max_length=2, validators=[chatserver.models.fields.validate_region]),
        ),
        migrations.AlterField(
            model_name='contact',
            name='role',
            field=models.CharField(choices=[('homeowner', 'Homeowner'), ('spouse', 'Spouse'), ('adjuster', 'Insurance adjuster'), ('partner', 'External partner'), ('other', 'Other')], default='homeowner', max_length=16),
        ),
        migrations.RunPython(rename_roles, restore_roles),
    ]
