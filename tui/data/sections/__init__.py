"""The sections of a Snapshot, each read by one planner over the reader's three pipelined rounds."""
