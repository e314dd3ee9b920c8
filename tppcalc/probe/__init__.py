"""Probing the machine: backends that read hardware (the only code that touches it: NVML, the PCI
bus through sysfs, the CPU), the frozen HostReport they produce, and the pure steps after it
(identify, assess)."""
