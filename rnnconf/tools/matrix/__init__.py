"""Tools that read several reports/shapes.json documents: ``merge`` (runs side by side),
``diff`` (what changed between two runs) and ``merge-shards`` (one run from its CI shards).
Run them as ``python -m rnnconf``; they need jinja2 and nothing of Keras."""
