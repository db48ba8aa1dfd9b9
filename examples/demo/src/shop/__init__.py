"""A tiny shop package used to demonstrate lintrank."""
