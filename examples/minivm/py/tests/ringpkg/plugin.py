# Writes the package's registry (a list) while the package's __init__ is still running.
from tests.ringpkg import registry

NAME = "plugin"
registry.append("plugin")


def seen():
    return len(registry)
