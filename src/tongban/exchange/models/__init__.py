"""Models of the data hub: the departments' registries (基础库) and the sharing catalogue with its grants."""

from .registries import *  # noqa: F403
from .sharing import *  # noqa: F403
