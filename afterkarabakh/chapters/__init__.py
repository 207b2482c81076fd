"""Chart and table code that only one chapter needs, one module per chapter (shared helpers live one level up)."""
