"""`python cli.py ...` runs the same commands as the installed `scoring` script."""
from scoring.cli import run

if __name__ == "__main__":
    run()
