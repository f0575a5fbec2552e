"""Monitoring's HTTP API: ``views`` (REST reads and the managers' watch/rule writes), ``serializers``,
``filters`` and ``selectors`` for them, and ``webhook`` (the signed push endpoint). Routes are in
``crisisdesk/api_urls.py``."""
