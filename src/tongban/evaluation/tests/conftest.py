from tongban.cases.tests.fixtures import handlers, newborn, parent  # noqa: F401
from tongban.portal.tests.fixtures import citizen, city  # noqa: F401
from tongban.supervision.tests.fixtures import (  # noqa: F401
    completed_case,
    health_head,
    hrss_head,
    ps_head,
    supervisor,
)
