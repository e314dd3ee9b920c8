"""Probing the machine: backends that read hardware (the only code that touches it), the frozen
HostReport they produce, and the pure steps after it (identify, assess)."""
