"""The local stack for `make dev` and the tests. Never deployed."""
