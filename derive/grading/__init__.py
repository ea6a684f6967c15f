"""`derive check`: judging (rules and modes), matching given answers to numbers, slip diagnosis, reports."""
