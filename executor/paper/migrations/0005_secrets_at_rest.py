# TOTP seeds encrypted at rest (executor.crypto), each code good once, and Binance-style API keys.

import django.db.models.deletion
from django.db import migrations, models


def encrypt_seeds(apps, schema_editor):
    from executor import crypto

    PaperAccount = apps.get_model("paper", "PaperAccount")
    for account in PaperAccount.objects.exclude(totp_secret=""):
        account.totp_secret_encrypted = crypto.encrypt({"totp_secret": account.totp_secret})
        account.totp_secret = ""
        account.save(update_fields=["totp_secret_encrypted", "totp_secret"])


def decrypt_seeds(apps, schema_editor):
    from executor import crypto

    PaperAccount = apps.get_model("paper", "PaperAccount")
    for account in PaperAccount.objects.exclude(totp_secret_encrypted=""):
        account.totp_secret = crypto.decrypt(account.totp_secret_encrypted)["totp_secret"]
        account.save(update_fields=["totp_secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("paper", "0004_pro_site"),
    ]

    operations = [
        migrations.AddField(
            model_name="paperaccount",
            name="totp_secret_encrypted",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="paperaccount",
            name="totp_last_step",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        # A default, so undoing the removal below can add the column back before the seeds return.
        migrations.AlterField(
            model_name="paperaccount",
            name="totp_secret",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(encrypt_seeds, decrypt_seeds),
        migrations.RemoveField(model_name="paperaccount", name="totp_secret"),
        migrations.CreateModel(
            name="PaperBinanceKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(blank=True, max_length=50)),
                ("key_hash", models.CharField(max_length=64, unique=True)),
                (
                    "key_prefix",
                    models.CharField(help_text="The key's first characters, to tell keys apart.", max_length=8),
                ),
                ("secret_encrypted", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="binance_keys",
                        to="paper.paperaccount",
                    ),
                ),
            ],
            options={
                "verbose_name": "paper Binance API key",
                "verbose_name_plural": "paper Binance API keys",
                "ordering": ["-created_at"],
            },
        ),
    ]
