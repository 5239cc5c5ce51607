"""The read side: views derived from a study's experiments on read (nothing here is stored).

`study` (summary, best so far, categories, lineage) serves every task; `pipeline` (per-slot
rankings, interactions, pruning) and `combo` (a pipeline candidate as the knobs it is stored
with) serve tabular studies. `status`, the dashboard, the report and the search all read these,
so they always agree; only records and the metric are imported, never the engine.
"""
