"""The commented starter feeds.yaml that `aggregator init` writes."""
