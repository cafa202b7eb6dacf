"""Helpers the tests share: plain functions, classes and constants, imported by test
modules and by the conftest.py files (which hold only fixtures and hooks)."""
