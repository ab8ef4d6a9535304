from meshstack.cli import main

main()
