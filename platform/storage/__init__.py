"""The storage engine: metadata becomes real tables and columns."""
