"""Madam's composition root: the app factory, settings, the `madam` command and the worker entry."""
