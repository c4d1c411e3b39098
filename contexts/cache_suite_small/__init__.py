"""A context folder is a package so that test basenames may repeat across contexts."""
