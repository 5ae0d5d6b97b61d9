from tests.inspection_fixtures import *  # noqa: F403
