"""OpenBTAM: open-source school Behavioral Threat Assessment and Management."""
