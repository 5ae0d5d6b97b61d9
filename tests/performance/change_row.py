"""Run in a second process by test_shared_cache: changes one row the way an operator's
command would (through provisioning and the ORM, so model signals fire), against the database
and cache named by LIVE_DATABASE_URL / LIVE_CACHE_URL. Prints one JSON document."""

from __future__ import annotations

import json
import os
import sys

import django


def main(action: str, client_id: str) -> dict[str, object]:
    django.setup()
    from django.conf import settings

    settings.OAUTH_TOKEN = {**settings.OAUTH_TOKEN, "CACHE_KEY_PREFIX": os.environ["KEY_PREFIX"]}
    from oauth_token.conf import oauth_settings
    from oauth_token.models import Api, ApiScope, Client, ClientGrant
    from oauth_token.registry import keyring, provisioning

    oauth_settings.reload()
    if action == "create_client":
        created = provisioning.create_client(name="Created", grant_types=["client_credentials"])
        provisioning.grant(created.client, Api.objects.get(identifier="https://api.example.com"))
        return {"client_id": created.client.client_id, "secret": created.secret}
    if action == "rotate_key":
        keyring.rotate("RS256")
        current = keyring.key_set().current("RS256")
        assert current is not None
        return {"kid": current.kid}
    client = Client.objects.get(client_id=client_id)
    if action == "rotate_secret":
        return {"secret": provisioning.rotate_secret(client)}
    if action == "delete_client":
        client.delete()
    elif action == "delete_grant":
        ClientGrant.objects.get(client=client).delete()
    elif action == "narrow_grant":
        grant = ClientGrant.objects.get(client=client)
        provisioning.grant(client, grant.api, ["read:things"])
    elif action == "remove_api_scope":
        ApiScope.objects.get(name="write:things").delete()
    else:
        raise SystemExit(f"unknown action {action}")
    return {}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
