"""Reports of screening outcomes: terminal table, JSON and self-contained HTML pages."""
