from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "tongban.catalog"
    verbose_name = _("Service catalogue")

    def ready(self):
        from .models import BundleItem, Material, ServiceItem
        from .services import step_effects_forget

        for model in (ServiceItem, BundleItem, Material):
            for signal in (post_save, post_delete):
                signal.connect(
                    step_effects_forget, sender=model, dispatch_uid=f"step_effects_{model.__name__}"
                )
