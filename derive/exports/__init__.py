"""`derive export` (SPEC §11): an offline HTML key, Moodle XML and Canvas QTI 1.2, from the same solutions."""
