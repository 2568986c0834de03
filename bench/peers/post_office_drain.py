"""The B4 peer: django-post_office draining the same messages into the same sink (run by bench/mail_drain.py).

    var/bench/peers/post_office/bin/python bench/peers/post_office_drain.py MESSAGES.json

Run with the peer's own venv (bench/peers/post_office.txt). The database (an empty SQLite file or PostgreSQL
database) and the sink's port come from the environment (post_office_settings.py). The script creates the
tables, queues every message of the JSON file (sender, recipient, subject, text and HTML parts and headers
as Byline renders them) with `mail.send_many`, untimed, then times `send_queued_mail_until_done()` (what
`manage.py send_queued_mail` runs) and prints one JSON line: messages sent, the rate and the CPU time of this process.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "post_office_settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from post_office import mail  # noqa: E402
from post_office.models import STATUS, Email  # noqa: E402


def main() -> None:
    messages = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    call_command("migrate", verbosity=0)
    Email.objects.all().delete()
    for start in range(0, len(messages), 1000):
        mail.send_many(
            [
                {
                    "sender": m["from"],
                    "recipients": [m["to"]],
                    "subject": m["subject"],
                    "message": m["text"],
                    "html_message": m["html"],
                    "headers": {"Message-ID": m["message_id"], **m["headers"]},
                }
                for m in messages[start : start + 1000]
            ]
        )
    lock = Path(os.environ.get("BENCH_PEER_LOCK", "post_office"))
    started, cpu = time.perf_counter(), time.process_time()
    mail.send_queued_mail_until_done(lockfile=str(lock))
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    sent = Email.objects.filter(status=STATUS.sent).count()
    print(json.dumps({"sent": sent, "seconds": took, "rate": sent / took, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main()
