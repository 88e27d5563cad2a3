from tongban.supervision.tests.fixtures import (  # noqa: F401
    clerk,
    completed_case,
    health_head,
    hrss_head,
    ps_head,
    supervisor,
)
