from tongban.cases.tests.fixtures import handlers, newborn, parent  # noqa: F401
from tongban.portal.tests.fixtures import citizen, city, staff_user  # noqa: F401
from tongban.proactive.tests.fixtures import designer, messaging_templates, school_item  # noqa: F401
