"""lintrank as a Language Server: ranked diagnostics in the editor (``lintrank lsp``)."""
