"""Routes of the keys function: /key/* and /spend/logs."""
