"""Tariff types and tariffs, meter readings, bill calculation and billing runs."""
