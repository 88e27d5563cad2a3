from tongban.workbench.tests.fixtures import clerk, designer  # noqa: F401
