from django.db import migrations, models


def create_row(apps, schema_editor):
    apps.get_model("oauth_token", "ChangeGeneration").objects.using(
        schema_editor.connection.alias
    ).get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("oauth_token", "0006_client_lifetimes_api_rbac"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChangeGeneration",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField(default=0)),
            ],
            options={"verbose_name": "change generation"},
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]
