"""Default configuration shipped with ringwatch (settings.toml)."""
