from tongban.portal.tests.fixtures import citizen, city, staff_user  # noqa: F401
