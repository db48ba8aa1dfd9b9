"""Adapters between lintrank's core and the analyzers users already run."""
