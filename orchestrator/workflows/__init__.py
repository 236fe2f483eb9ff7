"""Lifecycle workflows, one module each, written as generators of effects."""
