"""An OAuth 2.0 / OpenID Connect authorization server for Django."""

__version__ = "0.1.0"
