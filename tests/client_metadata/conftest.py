from tests.authorize.fixtures import *  # noqa: F403
from tests.client_metadata.fixtures import *  # noqa: F403
