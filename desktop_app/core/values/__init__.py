"""Values people can read: numbers, timestamps, JSON, geometry and bad text, decoded without SQL or Qt."""
