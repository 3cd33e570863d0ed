"""The model registry: fitted versions with provenance and calibration, and their aliases."""
