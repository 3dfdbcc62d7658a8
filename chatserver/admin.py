"""The Django admin for the whole domain.

Messages and the audit logs are read-only here: they are written only by
``chatserver.actions`` (and shown as text, never as HTML).
"""

from django.contrib import admin

from chatserver import models
from chatserver.actions import webhooks
from chatserver.actions.templates import tell_consoles
from chatserver.queries import reports


@admin.register(models.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "message_limit", "texted_first_authorizes", "mms_enabled"]
    search_fields = ["name"]
    # The send governor's switches, together, with the page that explains them.
    fieldsets = [
        (None, {"fields": [
            f.name for f in models.Organisation._meta.fields
            if f.editable and f.name != "id" and not f.name.startswith("solicit_")
        ]}),
        ("Send governor: which texts count as solicitations (docs/compliance.md)", {
            "fields": [
                "solicit_follow_ups",
                "solicit_scheduled",
                "solicit_automatic",
                "solicit_authorization_requests",
            ],
        }),
    ]


@admin.register(models.Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "organisation",
        "access",
        "sms",
        "is_external",
        "engagements_closed",
    ]
    list_filter = ["organisation", "access", "sms", "is_external"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]

    def get_queryset(self, request):
        return reports.with_engagements_closed(
            super().get_queryset(request), *reports.month_bounds()
        )

    @admin.display(
        description="Engagements closed this month", ordering="engagements_closed"
    )
    def engagements_closed(self, obj):
        return obj.engagements_closed


@admin.register(models.AgentGroup)
class AgentGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "sms"]
    filter_horizontal = ["members"]


class ContactNumberInline(admin.TabularInline):
    model = models.ContactNumber
    extra = 0
    fields = ["number", "kind"]


@admin.register(models.Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "organisation"]
    list_filter = ["organisation", "role"]
    search_fields = ["first_name", "last_name", "numbers__number"]
    filter_horizontal = ["leads"]
    inlines = [ContactNumberInline]

    def save_formset(self, request, form, formset, change):
        for inline in formset.save(commit=False):
            inline.organisation_id = form.instance.organisation_id
            inline.save()
        formset.save_m2m()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(models.Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "status", "assignee", "source", "last_activity_at"]
    list_filter = ["organisation", "status", "source"]
    search_fields = ["name"]
    filter_horizontal = ["shared_with"]
    readonly_fields = ["assignee", "status", "closed_at", "last_activity_at"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "shared_with":
            # Leads are shared read-only with external users only (see access.py).
            kwargs["queryset"] = models.Agent.objects.filter(is_external=True)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class BusinessHoursInline(admin.StackedInline):
    """A number's business hours and its after-hours reply."""

    model = models.BusinessHours
    can_delete = True
    extra = 0
    max_num = 1


@admin.register(models.SenderNumber)
class SenderNumberAdmin(admin.ModelAdmin):
    list_display = ["number", "carrier", "organisation", "agent", "carrier_confirms_optout"]
    list_filter = ["carrier", "organisation"]
    inlines = [BusinessHoursInline]


@admin.register(models.KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    """Keyword rules, as the console's saved replies dialog edits them; a
    change here tells the consoles as one there does."""

    list_display = ["keyword", "template", "organisation", "active"]
    list_filter = ["organisation", "active"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        tell_consoles(obj.organisation_id)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        tell_consoles(obj.organisation_id)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(models.Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "sender", "status", "last_message_at"]
    list_filter = ["organisation", "status"]


@admin.register(models.Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "direction", "status", "body_preview", "created_at"]
    list_filter = ["organisation", "direction", "status", "carrier"]
    search_fields = ["body", "carrier_message_id"]

    @admin.display(description="body")
    def body_preview(self, obj):
        return obj.body[:80]


@admin.register(models.Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["number", "state", "organisation", "updated_at"]
    list_filter = ["organisation", "state"]
    search_fields = ["number"]


@admin.register(models.ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "number", "old_state", "new_state", "source", "reason", "agent", "created_at"
    ]
    list_filter = ["organisation", "new_state", "source"]
    search_fields = ["number"]


@admin.register(models.Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "category"]


admin.site.register(models.MessageCategory)
admin.site.register(models.Note, ReadOnlyAdmin)
admin.site.register(models.LeadClosure, ReadOnlyAdmin)
admin.site.register(models.Event, ReadOnlyAdmin)
admin.site.register(models.ReadState, ReadOnlyAdmin)
admin.site.register(models.Attachment, ReadOnlyAdmin)
admin.site.site_header = "SMS console admin"


@admin.register(models.WebhookReceipt)
class WebhookReceiptAdmin(ReadOnlyAdmin):
    """Webhooks waiting for the worker, and those it could not apply."""

    list_display = ("id", "carrier", "kind", "received_at", "failed_at", "error")
    list_filter = ("carrier", "kind", ("failed_at", admin.EmptyFieldListFilter))
    actions = ["retry"]

    @admin.action(description="Apply the selected webhooks again")
    def retry(self, request, queryset):
        count = webhooks.retry(queryset)
        self.message_user(request, f"{count} webhook(s) put back in line.")
