"""A grant a project adds through EXTRA_GRANT_TYPES (used by the discovery tests)."""

from oauth_token.errors import InvalidGrant
from oauth_token.grants import BaseGrant, GrantResult, TokenContext


class ExampleGrant(BaseGrant):
    grant_type = "urn:example:grant"

    def validate(self, context: TokenContext) -> GrantResult:
        raise InvalidGrant("Example grant never succeeds.")
