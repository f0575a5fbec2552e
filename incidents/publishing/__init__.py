"""The public face of a crisis: a dark site per watch, published updates, its feed."""
