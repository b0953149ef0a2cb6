#!/usr/bin/env python
"""Django's command-line utility for the Handrail clinic app.

Without SECRET_KEY/SECRET_KEY_FILE in the environment it uses the development key in
var/secret_key (created on first use), like `make run`.
"""

from __future__ import annotations

import sys

from handrail.web.devenv import setup_dev_environment


def main() -> None:
    setup_dev_environment()
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.INSTALLED_APPS  # noqa: B018 (loads the settings module)
    except ImproperlyConfigured as exc:
        # A setting read from the environment is wrong: its message names the variable and
        # what to write; a traceback would only hide it.
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(2)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
