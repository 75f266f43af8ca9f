"""Every deviation from plain Keras that exists for speed, behind one switch."""
