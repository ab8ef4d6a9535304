"""The shop platform team's program: see shop_platform.py."""

from shop_platform import main

main()
