from .apis import Api, ApiScope
from .clients import Client, ClientGrant
from .keys import SigningKey
from .revocation import RevokedAccessToken

__all__ = ["Api", "ApiScope", "Client", "ClientGrant", "RevokedAccessToken", "SigningKey"]
