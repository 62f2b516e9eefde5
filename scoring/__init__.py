"""Rules-driven scoring of how departments handle deputies' suggestions and members' proposals.

Data flows one way:

    ingest      case files  -> validated Case models (cases.py), every problem with file:line
    rulebook    TOML        -> RulebookSpec models, with key paths and lines (tomlpos.py)
    compiler    rulebook    -> closures (lang/) and matching-engine rules (engine.py)
    runner      cases       -> worker processes -> evaluate.py: one engine session per case
                               and handler -> ledger lines
    rollup      lines       -> department totals, grades, ranks
    ledger / report         -> JSON, CSV, the ranking table, explanations
    pipeline                -> all of the above for one run; cli.py is the command line
"""
