"""Rules: the rule tree, its text syntax, the concept library, curated rule files and drafting."""
