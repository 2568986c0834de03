"""What leaves Byline asynchronously: mail and webhook deliveries.

Features queue them here, in their own transaction (`enqueue`, `enqueue_for_staff`, `queue_state_change`,
`queue_event`);
a `Sender` takes the queued rows and sends them through a channel (app/mail/delivery.py: SMTP,
app/api/delivery.py: HTTP), with one set of claims, retries, dead letters and stop handling for both.
"""

from app.core.outbound.mail import (
    DIGESTIBLE,
    EMAIL_TITLES,
    MUTABLE,
    SEALED,
    enqueue,
    enqueue_for_staff,
)
from app.core.outbound.sender import SENT, AfterOutcomes, Channel, Outcome, Sender, Verdict
from app.core.outbound.webhooks import EVENTS, STATE_CHANGED, TRIAL_EVENTS, queue_event, queue_state_change

__all__ = [
    "DIGESTIBLE",
    "EMAIL_TITLES",
    "EVENTS",
    "MUTABLE",
    "SEALED",
    "SENT",
    "STATE_CHANGED",
    "TRIAL_EVENTS",
    "AfterOutcomes",
    "Channel",
    "Outcome",
    "Sender",
    "Verdict",
    "enqueue",
    "enqueue_for_staff",
    "queue_event",
    "queue_state_change",
]
