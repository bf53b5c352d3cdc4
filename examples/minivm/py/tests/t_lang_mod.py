# Helper of t_lang.py: a module with a PEP 562 module-level __getattr__.
present = "here"
calls = []


def __getattr__(name):
    calls.append(name)
    if name.startswith("dyn_"):
        return name[4:].upper()
    raise AttributeError("no " + name)
