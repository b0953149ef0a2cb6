"""A patient's progress on a home program: adherence per week, pain trend, worklist flags
and the SVG charts that show them. Pure Python over plain data (no Django), so the patient
page, the program page, the API and the worklist all compute the same figures.
"""

from __future__ import annotations
