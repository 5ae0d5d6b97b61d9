from oauth_token.models.apis import Api, ApiScope
from oauth_token.models.audit import AuditEvent
from oauth_token.models.clients import Client, ClientGrant
from oauth_token.models.codes import AuthorizationCode
from oauth_token.models.consents import Consent
from oauth_token.models.device import DeviceCode, DeviceCodeStatus
from oauth_token.models.generation import ChangeGeneration
from oauth_token.models.keys import SigningKey
from oauth_token.models.par import PushedAuthorizationRequest
from oauth_token.models.refresh import RefreshFamilyAccessToken, RefreshToken, RefreshTokenFamily
from oauth_token.models.registration import ClientRegistration, InitialAccessToken
from oauth_token.models.revocation import RevokedAccessToken
from oauth_token.models.roles import Role
from oauth_token.models.sessions import SessionParticipant

__all__ = [
    "Api",
    "ApiScope",
    "AuditEvent",
    "AuthorizationCode",
    "ChangeGeneration",
    "Client",
    "ClientGrant",
    "ClientRegistration",
    "Consent",
    "DeviceCode",
    "DeviceCodeStatus",
    "InitialAccessToken",
    "PushedAuthorizationRequest",
    "RefreshFamilyAccessToken",
    "RefreshToken",
    "RefreshTokenFamily",
    "RevokedAccessToken",
    "Role",
    "SessionParticipant",
    "SigningKey",
]
