from tests.authorize.fixtures import *  # noqa: F403
