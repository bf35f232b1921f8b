"""Patient records: normalized facts read from FHIR R4/mCODE, Bulk NDJSON or CSV, and derivations over them."""
