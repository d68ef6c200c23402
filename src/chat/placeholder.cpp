// Replaced by the Jinja interpreter.
