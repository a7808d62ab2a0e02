"""Helpers of tests that need more than one module (the README test's parser, runner and checks)."""
