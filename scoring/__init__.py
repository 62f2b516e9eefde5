"""Rules-driven scoring of how departments handle deputies' suggestions and members' proposals.

One package per stage; each may import only stages listed before it here (the exact table is in
docs/architecture.md, and tests/test_architecture.py checks it):

    base       errors with locations, reading and writing files, TOML into typed models
    lang       the rule language (knows no domain: what it may read is handed to it as data)
    domain     the case model, department records, the official calendar
    inputs     case files, Excel registers (台账), department records files
    rulebook   the rulebook model, loading, overlays and --set
    ledger     the documents the tool writes: shapes, schemas, JSON and CSV, the ledger's builder
    engine     compiler, the durable_rules wrapper, evaluation, workers, roll-up, the scoring session
    checks     rules validate, self-check, the monthly bulletin, rule tests
    audit      the run store, run records, comparing ledgers and rulebooks
    reports    terminal tables, workbooks, HTML pages
    app        each command as one library function returning one result
    cli        the `scoring` command line
"""
