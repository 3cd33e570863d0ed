"""nbaprops: honest NBA player-points prop predictions."""

__version__ = "0.1.0"
