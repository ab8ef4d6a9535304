"""The meshstack component provider: MeshPlatform and MeshApp for programs in any Pulumi language."""

from meshstack.provider import serve

if __name__ == "__main__":
    serve()
