from django.db import migrations, models

HELP = "Following was turned off by a trade error (it resumes when none is left)."


def mark_paused_by_error(apps, schema_editor):
    """Followers off with an unresolved error were paused by it (the only way before this field)."""
    FollowSettings = apps.get_model("following", "FollowSettings")
    TradeError = apps.get_model("following", "TradeError")
    users = TradeError.objects.filter(is_resolved=False).values("user_id")
    FollowSettings.objects.filter(is_active=False, user_id__in=users).update(paused_by_error=True)


class Migration(migrations.Migration):
    dependencies = [
        ("following", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="followsettings",
            name="paused_by_error",
            field=models.BooleanField(default=False, help_text=HELP),
        ),
        migrations.AddField(
            model_name="historicalfollowsettings",
            name="paused_by_error",
            field=models.BooleanField(default=False, help_text=HELP),
        ),
        migrations.RunPython(mark_paused_by_error, migrations.RunPython.noop),
    ]
