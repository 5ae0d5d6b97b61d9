from .apis import Api, ApiScope
from .clients import Client, ClientGrant
from .codes import AuthorizationCode
from .consents import Consent
from .device import DeviceCode, DeviceCodeStatus
from .keys import SigningKey
from .par import PushedAuthorizationRequest
from .refresh import RefreshFamilyAccessToken, RefreshToken, RefreshTokenFamily
from .revocation import RevokedAccessToken

__all__ = [
    "Api",
    "ApiScope",
    "AuthorizationCode",
    "Client",
    "ClientGrant",
    "Consent",
    "DeviceCode",
    "DeviceCodeStatus",
    "PushedAuthorizationRequest",
    "RefreshFamilyAccessToken",
    "RefreshToken",
    "RefreshTokenFamily",
    "RevokedAccessToken",
    "SigningKey",
]
