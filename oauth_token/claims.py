"""Deprecated: moved to :mod:`oauth_token.tokens.claims`;
settings may still name this path."""

from oauth_token._deprecated import module_shim

__getattr__ = module_shim(__name__, "oauth_token.tokens.claims")
