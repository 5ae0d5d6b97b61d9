"""Deprecated: moved to :mod:`oauth_token.registry.trusted_issuers`;
settings may still name this path."""

from oauth_token._deprecated import module_shim

__getattr__ = module_shim(__name__, "oauth_token.registry.trusted_issuers")
