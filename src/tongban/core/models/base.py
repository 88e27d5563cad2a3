from django.db import models
from django.utils.translation import gettext_lazy as _

from .keys import new_id


class UUIDModel(models.Model):
    """A model whose public identifier is a UUID, never a guessable sequence: time-ordered (version 7, with random
    bits), so that new rows go to the right edge of the indexes that hold their key (``core.models.keys``)."""

    id = models.UUIDField(primary_key=True, default=new_id, editable=False)

    class Meta:
        abstract = True


class TimeStampedModel(UUIDModel):
    """The shared base: UUID primary key with created/updated timestamps."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
