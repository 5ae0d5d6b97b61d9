"""Generated client ids can be passed to commands as positional arguments."""

from __future__ import annotations

from oauth_token.models.clients import _new_client_id


def test_generated_client_ids_never_look_like_options():
    # A random id starts with "-" once in 64 draws; 3000 draws without the guard would all but
    # certainly produce one (1 - (63/64)**3000 > 0.999999).
    ids = [_new_client_id() for _ in range(3000)]
    assert not [i for i in ids if i.startswith("-")]
    assert len(set(ids)) == len(ids)
