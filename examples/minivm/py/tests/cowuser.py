# Frozen in a later batch than tests.cowstate (tests/freeze_cow.rs): it holds an object that
# only a written (copied) container of the earlier batch held until then.
import tests.cowstate as c

held = c.nested["fresh"]
