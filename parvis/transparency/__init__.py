"""Transparency: reports for any period (DSA Art. 15/24 figures), the statements-of-reasons
export and submitter for the EU Transparency Database, and the consistency report."""
