from tongban.cases.tests.fixtures import handlers, newborn, parent  # noqa: F401
from tongban.portal.tests.fixtures import citizen, city, staff_user  # noqa: F401
from tongban.workbench.tests.fixtures import clerk, designer  # noqa: F401
