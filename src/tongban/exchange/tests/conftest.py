from tongban.exchange.tests.fixtures_sharing import (  # noqa: F401
    health_handler,
    health_steward,
    other_citizen,
    ps_branch_handler,
    ps_steward,
    test_resources,
)
