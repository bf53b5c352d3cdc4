# Freeze as you import, bad input: good is imported and frozen, then bad raises half-way
# through its body. tests/freeze_import.rs checks that good's batch stays and mounts, and that
# nothing of bad or of this package is written.
from . import good
from . import bad

NEVER = "reached"
