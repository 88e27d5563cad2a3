from tongban.portal.tests.fixtures import _fast_password_hasher, citizen, city, staff_user  # noqa: F401
