from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenchConfig(AppConfig):
    """The benchmarks and their ``tongban bench`` command; no models."""

    name = "tongban.bench"
    verbose_name = _("Benchmarks")
