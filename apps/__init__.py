"""Workload apps built from the MeshApp component (Bookinfo and friends)."""
