"""trialmatch: screen cancer patients against clinical-trial eligibility criteria."""

__version__ = "0.1.0"
