"""Read-only views of the store: the live dashboard and the self-contained HTML report."""
