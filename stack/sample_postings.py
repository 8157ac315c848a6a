"""Sample job postings for the demo and the tests: some close to the sample resume (backend, payments, queues),
some far from it, and one at Contoso, which turns the sample mailbox's candidate down."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

SAMPLE_POSTINGS: list[dict[str, Any]] = [
    {
        "id": "fab-101",
        "company": "Fabrikam Pay",
        "title": "Senior Backend Engineer, Settlements",
        "location": "Remote (EU)",
        "url": "https://jobs.fabrikam.example/101",
        "description": "Own the settlement and payouts services in Python and Postgres. Design idempotent payment "
        "APIs, move batch jobs onto Kafka consumers and keep double-entry ledgers exact. You will mentor two "
        "engineers and run on-call for money-moving systems.",
        "closes_at": "2027-01-31",
    },
    {
        "id": "nw-7",
        "company": "Northwind Traders",
        "title": "Platform Engineer (Go)",
        "location": "Berlin",
        "url": "https://careers.northwind.example/7",
        "description": "Build our internal platform in Go: gRPC services, Redis-backed rate limiting, Kubernetes "
        "operators and the queues every team publishes to. Experience running Postgres in production helps.",
    },
    {
        "id": "contoso-55",
        "company": "Contoso",
        "title": "Backend Engineer, Payments",
        "location": "London",
        "url": "https://contoso.example/careers/55",
        "description": "Write the card payments backend in Python: authorisations, refunds and reconciliation with "
        "acquirers, event-driven with Kafka, stored in Postgres.",
    },
    {
        "id": "woodgrove-3",
        "company": "Woodgrove Bank",
        "title": "Software Engineer, Ledger Services",
        "location": "Remote",
        "url": "https://woodgrove.example/jobs/3",
        "description": "Our ledger services record every account movement. Python and Go services, Postgres, "
        "exactly-once processing on a message queue, careful tests and audits.",
    },
    {
        "id": "adatum-12",
        "company": "A. Datum",
        "title": "Data Engineer",
        "location": "Paris",
        "url": "https://adatum.example/jobs/12",
        "description": "Build batch and streaming pipelines with Spark and Kafka into our warehouse; SQL, Airflow "
        "and dbt every day.",
    },
    {
        "id": "litware-ios",
        "company": "Litware",
        "title": "iOS Engineer",
        "location": "Lisbon",
        "url": "https://litware.example/ios",
        "description": "Ship our iPhone app in Swift and SwiftUI: offline sync, accessibility and smooth animations "
        "on every screen.",
    },
    {
        "id": "bakery-1",
        "company": "Coho Bakery",
        "title": "Pastry Chef",
        "location": "Seattle",
        "url": "https://coho.example/jobs/pastry",
        "description": "Laminate doughs, bake croissants and plated desserts from 5 am, and run the pastry section "
        "of a busy bakery kitchen.",
    },
    {
        "id": "clinic-rn",
        "company": "Lakeshore Clinic",
        "title": "Registered Nurse",
        "location": "Chicago",
        "url": "https://lakeshore.example/rn",
        "description": "Care for patients on the surgical ward: medication rounds, wound care, charting and "
        "coordinating discharge with families.",
    },
    {
        "id": "fourth-sales",
        "company": "Fourth Coffee",
        "title": "Account Executive",
        "location": "New York",
        "url": "https://fourthcoffee.example/ae",
        "description": "Sell our coffee subscriptions to offices: prospecting, demos, negotiating contracts and "
        "hitting a quarterly quota.",
    },
    {
        "id": "proseware-design",
        "company": "Proseware",
        "title": "Graphic Designer",
        "location": "Remote",
        "url": "https://proseware.example/design",
        "description": "Design our brand, packaging and marketing pages in Figma and Illustrator; typography and "
        "illustration are your craft.",
    },
    {
        "id": "fab-old",
        "company": "Fabrikam Pay",
        "title": "Backend Engineer, Card Issuing",
        "location": "Remote (EU)",
        "url": "https://jobs.fabrikam.example/90",
        "description": "Card issuing backend in Python and Postgres with Kafka events. This opening has closed.",
        "closes_at": "2026-01-15",
    },
]


def postings_json(postings: list[dict[str, Any]] | None = None) -> bytes:
    return json.dumps(SAMPLE_POSTINGS if postings is None else postings, indent=1).encode()


def postings_csv(postings: list[dict[str, Any]] | None = None) -> bytes:
    rows = SAMPLE_POSTINGS if postings is None else postings
    columns = ["id", "company", "title", "location", "url", "description", "posted_at", "closes_at"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()
