from .apis import Api, ApiScope
from .clients import Client, ClientGrant
from .keys import SigningKey
from .refresh import RefreshFamilyAccessToken, RefreshToken, RefreshTokenFamily
from .revocation import RevokedAccessToken

__all__ = [
    "Api",
    "ApiScope",
    "Client",
    "ClientGrant",
    "RefreshFamilyAccessToken",
    "RefreshToken",
    "RefreshTokenFamily",
    "RevokedAccessToken",
    "SigningKey",
]
