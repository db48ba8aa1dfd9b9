"""Output formats; built-ins are registered through :mod:`.builtin`."""
