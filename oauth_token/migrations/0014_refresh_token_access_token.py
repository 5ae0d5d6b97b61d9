from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("oauth_token", "0013_client_id_metadata_documents"),
    ]

    operations = [
        migrations.AddField(
            model_name="refreshtoken",
            name="access_token_jti",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="refreshtoken",
            name="access_token_expires_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
