"""Spark event-log connector: discovery, decompression, selective decoding, model building."""
