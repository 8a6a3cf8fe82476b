"""The record service: the one door through which every record is read and written."""
