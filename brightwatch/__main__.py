from brightwatch.cli import main

main()
