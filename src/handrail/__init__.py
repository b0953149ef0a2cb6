"""Handrail: home programs and rehab therapy billing for outpatient PT/OT/SLP clinics."""

from __future__ import annotations

__version__ = "0.1.0"
