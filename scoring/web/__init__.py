"""The web workbench (`scoring serve`): the commands as pages, for people who work in a browser.

Departments upload their registers and check where they stand, supervisors rank and drill
down, circulate the bulletin and download the workbooks, auditors record, replay and compare
runs. The pages call the app layer (scoring.app) in jobs of their own processes
(jobs.py) and show its results with the report renderers (scoring.reports), so that a page
says what the command line says. security.py says who may use it; inputs.py where uploads go.
"""
from .serve import serve
from .views import Settings, create_app

__all__ = ["Settings", "create_app", "serve"]
