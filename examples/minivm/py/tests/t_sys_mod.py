# Helper of t_sys.py: a module to find in sys.modules and import again.
VALUE = 1
