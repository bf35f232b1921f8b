"""Trial records: the model, one reader per record format, and criteria segmentation."""
