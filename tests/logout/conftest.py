from tests.authorize.fixtures import *  # noqa: F403
from tests.logout.fixtures import *  # noqa: F403
