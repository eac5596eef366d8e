"""The Jobs explorer's data layer: a query syntax, the ways a filter is read, and rows, all Textual-free."""
