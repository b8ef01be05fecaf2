"""One ledger and one set of program rules for every channel."""
