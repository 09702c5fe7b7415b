"""Test-only app: models that use the encrypted field and storage (installed only under tests)."""
