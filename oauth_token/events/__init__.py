"""Receivers of ``oauth_token.signals``: one structured log line per event
(``receivers.log_event``), the audit log (``receivers.store_event``), connected in
``AppConfig.ready``; ``payloads`` turns a signal's arguments into JSON."""
