"""Claims and remittances without a database: the 837P professional claim Handrail writes,
the 835 remittance it reads and balances, the identifiers both carry, and the adjustment
reason codes a biller works. Pure Python (pyx12 for the X12 grammar); the web app stores
claims and calls these functions."""
