"""The framework ceiling: a bare Flask app that parses the body and returns a fixed card.

Served by gunicorn with the same settings as the service, so that the service's
throughput can be read as a fraction of what Flask + gunicorn can do at all.
"""

from __future__ import annotations

import orjson
from flask import Flask, Response, request

FIXED = orjson.dumps(
    {
        "cards": [
            {
                "uuid": "00000000-0000-4000-8000-000000000000",
                "summary": "Fixed card",
                "indicator": "info",
                "source": {"label": "bare"},
            }
        ]
    }
)

app = Flask(__name__)


@app.post("/cds-services/<service_id>")
def answer(service_id: str) -> Response:
    orjson.loads(request.get_data())
    return Response(FIXED, mimetype="application/json")
