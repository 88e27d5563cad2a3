"""The ``tongban`` operator command.

``tongban X ...`` runs Django's management command ``X`` with Tongban's settings, so every
operator command (``demo``, ``serve``, ``worker``, ``seed``, ``bench``, ``audit``, ``migrate``,
``createsuperuser`` ...) is one word away and ``tongban help`` lists them all.
"""

import os
import sys


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv if argv is None else argv)
    argv[0] = "tongban"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
