"""Self-tests: the suite run on broken fakes (fixtures/broken/) and on bad invocations."""
