from tongban.supervision.tests.fixtures import (  # noqa: F401
    completed_case,
    health_head,
    hrss_head,
    ps_head,
    supervisor,
)
