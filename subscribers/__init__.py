"""Subscriber registry: subscribers, premises, service points, meters, contracts, documents, outages."""
