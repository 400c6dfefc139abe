"""Helpers shared by the test suites: settings, the one session opener, result readers, launchers.

Test modules and conftest fixtures import from here (`from support.session import open_session`); nothing
imports from a conftest.
"""
