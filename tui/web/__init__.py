"""``rqtop serve``: the same dashboard in a browser, through textual-serve."""
