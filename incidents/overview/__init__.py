"""The home page: what needs me now — each watch's state, and my unfinished work across incidents."""
