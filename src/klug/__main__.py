from klug.cli import main

main()
