"""meshstack: the Istio service mesh as code. See README.md."""

from meshstack.stacks.program import main

main()
