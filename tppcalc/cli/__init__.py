"""The command-line interface: thin click commands over the library, errors mapped in main.py."""
