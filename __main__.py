"""meshstack: the Istio service mesh as code. See README.md."""

from stacks.program import main

main()
