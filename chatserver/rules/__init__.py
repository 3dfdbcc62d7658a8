"""Pure rules: no database."""
