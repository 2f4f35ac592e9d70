"""Private helpers shared by the whole package: argument checks, nested lists, files.

They sit below the engine: they import nothing from scalargrad, and every
other module may use them.
"""
