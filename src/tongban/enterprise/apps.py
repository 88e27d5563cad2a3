from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterpriseConfig(AppConfig):
    """法人一证通 (the enterprise certificate authority, agents' certificates), the enterprise space and the
    enterprise service office's analytics (隐形冠军)."""

    name = "tongban.enterprise"
    label = "enterprise"
    verbose_name = _("Enterprises")

    def ready(self):
        from tongban.cases.signing import SubmissionSigner, signer_register

        from . import checks  # noqa: F401  (registers the deployment check of the CA's key directory)
        from .selectors import signing_certificates_for
        from .services import submission_signature_prepare

        # Agents sign what they submit (cases/signing.py): the case engine asks this app.
        signer_register(
            SubmissionSigner(certificates_for=signing_certificates_for, prepare=submission_signature_prepare)
        )
