# Freeze as you import, an unfreezable module in the middle: fine is frozen, then
# tests.unfreezable (it holds a socket) cannot be, and neither can this package, which reaches
# it. tests/freeze_import.rs checks that the import goes on, fine's batch stays, and the call
# raises the socket's path at the end.
from . import fine
from tests import unfreezable

LATE = fine.answer() + 1
